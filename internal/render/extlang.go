package render

// extlangPrefix maps each extended language subtag of the IANA Language
// Subtag Registry (File-Date 2025-08-25) to the one language it may
// follow: zh-cmn, ar-arb, ms-zsm, sgn-ase are tags; en-cmn, de-gsw, zh-arb
// are not. x/text reads any three-letter second subtag as the language and
// drops the first (en-cmn as cmn, which is zh), so parseTag checks the
// pair against this table (*extlangError). TestExtlangTableIsTheRegistrys
// compares it with testdata/iana-deprecated.txt, the registry's records.
var extlangPrefix = map[string]string{
	"aao": "ar", "abh": "ar", "abv": "ar", "acm": "ar", "acq": "ar", "acw": "ar", "acx": "ar", "acy": "ar",
	"adf": "ar", "ads": "sgn", "aeb": "ar", "aec": "ar", "aed": "sgn", "aen": "sgn", "afb": "ar", "afg": "sgn",
	"ajp": "ar", "ajs": "sgn", "apc": "ar", "apd": "ar", "arb": "ar", "arq": "ar", "ars": "ar", "ary": "ar",
	"arz": "ar", "ase": "sgn", "asf": "sgn", "asp": "sgn", "asq": "sgn", "asw": "sgn", "auz": "ar", "avl": "ar",
	"ayh": "ar", "ayl": "ar", "ayn": "ar", "ayp": "ar", "bbz": "ar", "bfi": "sgn", "bfk": "sgn", "bjn": "ms",
	"bog": "sgn", "bqn": "sgn", "bqy": "sgn", "btj": "ms", "bve": "ms", "bvl": "sgn", "bvu": "ms", "bzs": "sgn",
	"cdo": "zh", "cds": "sgn", "cjy": "zh", "cmn": "zh", "cnp": "zh", "coa": "ms", "cpx": "zh", "csc": "sgn",
	"csd": "sgn", "cse": "sgn", "csf": "sgn", "csg": "sgn", "csl": "sgn", "csn": "sgn", "csp": "zh", "csq": "sgn",
	"csr": "sgn", "csx": "sgn", "czh": "zh", "czo": "zh", "doq": "sgn", "dse": "sgn", "dsl": "sgn", "dsz": "sgn",
	"dup": "ms", "ecs": "sgn", "ehs": "sgn", "esl": "sgn", "esn": "sgn", "eso": "sgn", "eth": "sgn", "fcs": "sgn",
	"fse": "sgn", "fsl": "sgn", "fss": "sgn", "gan": "zh", "gds": "sgn", "gom": "kok", "gse": "sgn", "gsg": "sgn",
	"gsm": "sgn", "gss": "sgn", "gus": "sgn", "hab": "sgn", "haf": "sgn", "hak": "zh", "hds": "sgn", "hji": "ms",
	"hks": "sgn", "hnm": "zh", "hos": "sgn", "hps": "sgn", "hsh": "sgn", "hsl": "sgn", "hsn": "zh", "icl": "sgn",
	"iks": "sgn", "ils": "sgn", "inl": "sgn", "ins": "sgn", "ise": "sgn", "isg": "sgn", "isr": "sgn", "jak": "ms",
	"jax": "ms", "jcs": "sgn", "jhs": "sgn", "jks": "sgn", "jls": "sgn", "jos": "sgn", "jsl": "sgn", "jus": "sgn",
	"kgi": "sgn", "knn": "kok", "kvb": "ms", "kvk": "sgn", "kvr": "ms", "kxd": "ms", "lbs": "sgn", "lce": "ms",
	"lcf": "ms", "lgs": "sgn", "liw": "ms", "lls": "sgn", "lsb": "sgn", "lsc": "sgn", "lsg": "sgn", "lsl": "sgn",
	"lsn": "sgn", "lso": "sgn", "lsp": "sgn", "lst": "sgn", "lsv": "sgn", "lsw": "sgn", "lsy": "sgn", "ltg": "lv",
	"luh": "zh", "lvs": "lv", "lws": "sgn", "lzh": "zh", "max": "ms", "mdl": "sgn", "meo": "ms", "mfa": "ms",
	"mfb": "ms", "mfs": "sgn", "min": "ms", "mnp": "zh", "mqg": "ms", "mre": "sgn", "msd": "sgn", "msi": "ms",
	"msr": "sgn", "mui": "ms", "mzc": "sgn", "mzg": "sgn", "mzy": "sgn", "nan": "zh", "nbs": "sgn", "ncs": "sgn",
	"nsi": "sgn", "nsl": "sgn", "nsp": "sgn", "nsr": "sgn", "nzs": "sgn", "okl": "sgn", "orn": "ms", "ors": "ms",
	"pel": "ms", "pga": "ar", "pgz": "sgn", "pks": "sgn", "prl": "sgn", "prz": "sgn", "psc": "sgn", "psd": "sgn",
	"pse": "ms", "psg": "sgn", "psl": "sgn", "pso": "sgn", "psp": "sgn", "psr": "sgn", "pys": "sgn", "rib": "sgn",
	"rms": "sgn", "rnb": "sgn", "rsi": "sgn", "rsl": "sgn", "rsm": "sgn", "rsn": "sgn", "sdl": "sgn", "sfb": "sgn",
	"sfs": "sgn", "sgg": "sgn", "sgx": "sgn", "shu": "ar", "sjc": "zh", "slf": "sgn", "sls": "sgn", "sqk": "sgn",
	"sqs": "sgn", "sqx": "sgn", "ssh": "ar", "ssp": "sgn", "ssr": "sgn", "svk": "sgn", "swc": "sw", "swh": "sw",
	"swl": "sgn", "syy": "sgn", "szs": "sgn", "tmw": "ms", "tse": "sgn", "tsm": "sgn", "tsq": "sgn", "tss": "sgn",
	"tsy": "sgn", "tza": "sgn", "ugn": "sgn", "ugy": "sgn", "ukl": "sgn", "uks": "sgn", "urk": "ms", "uzn": "uz",
	"uzs": "uz", "vgt": "sgn", "vkk": "ms", "vkt": "ms", "vsi": "sgn", "vsl": "sgn", "vsv": "sgn", "wbs": "sgn",
	"wuu": "zh", "xki": "sgn", "xml": "sgn", "xmm": "ms", "xms": "sgn", "yds": "sgn", "ygs": "sgn", "yhs": "sgn",
	"ysl": "sgn", "ysm": "sgn", "yue": "zh", "zib": "sgn", "zlm": "ms", "zmi": "ms", "zsl": "sgn", "zsm": "ms",
}
