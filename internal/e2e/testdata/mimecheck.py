#!/usr/bin/python3
"""mimecheck: read every message rawsmtpd.py stored with Python's email
package, a MIME parser tidings did not write, and report each defect.

    mimecheck.py DIR EXPECT.json [PREVIEW_DIR]

DIR is rawsmtpd's directory (new/<n>.eml and new/<n>.json). EXPECT.json maps
each recipient's lower-cased address to what its message must say:
{"subject", "from_name", "from_addr", "reply_to", "to_name", "lang", "text",
"html", "unsubscribe": [URI, ...] or []}. Prints one JSON object:
{"checked": N, "defects": [{"file", "rcpt", "what"}, ...]}; exits 0 when it
could read everything (defects or not), 2 when it could not run.

PREVIEW_DIR is the gallery `tidings preview --out` wrote for the same
campaign: each <lang>.eml there is read too (as what a server without
8BITMIME would receive), and each message must say, in its text part, every
line of the preview of its language that names no recipient: the body is in
the language QA saw for that locale.
"""
import email
import email.errors
import email.header
import email.policy
import email.utils
import json
import os
import re
import sys
import urllib.parse
from email.parser import BytesParser

# RFC 5322 3.6.4 msg-id with dot-atom-text on both sides (no obsolete forms,
# no domain literal).
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
DOT_ATOM = ATEXT + r'(?:\.' + ATEXT + r')*'
MSG_ID = re.compile(r'^<' + DOT_ATOM + '@' + DOT_ATOM + '>$')
FIELD_NAME = re.compile(rb'^[\x21-\x39\x3b-\x7e]+$')
# An RFC 2047 encoded-word.
ENCODED_WORD = re.compile(r'=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=')
LANG_TAG = re.compile(r'^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$')
HTML_LANG = re.compile(r'<html[^>]*\blang="([^"]*)"')
# Characters tidings replaces in a header value: controls (C0, DEL, C1) and
# U+2028/U+2029 (each run becomes one space; the value is trimmed).
CONTROL_RUN = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029]+')
UNIQUE = ('from', 'to', 'subject', 'date', 'message-id', 'mime-version',
          'content-type', 'reply-to', 'content-language', 'list-unsubscribe',
          'list-unsubscribe-post', 'content-transfer-encoding', 'cc', 'bcc')
REQUIRED = ('from', 'to', 'subject', 'date', 'message-id', 'mime-version', 'content-type')


def one_line(s):
    return CONTROL_RUN.sub(' ', s).strip()


def raw_header(msg, name):
    """The value of msg's header name as received, unfolded."""
    for k, v in msg.raw_items():
        if k.lower() == name:
            return re.sub(r'\r?\n([ \t])', r'\1', v)
    return ''


def rfc2047_name(value):
    """The display name of the one mailbox in value, decoded as RFC 2047
    6.2 says: white space between adjacent encoded-words is dropped.
    policy.default keeps it as a space in a phrase (CPython issue 128110,
    open), which would report a long name split into several encoded-words
    (there is no space to split it at) as changed; this second reading, by
    email.header.decode_header, settles such a name."""
    name, _ = email.utils.parseaddr(value)
    if not ENCODED_WORD.search(name):
        return name
    return str(email.header.make_header(email.header.decode_header(name)))


def norm_body(s):
    """A decoded part as rendered text: LF line ends (a CR alone is a line
    break in text/plain and text/html, sent as CRLF: RFC 2046 4.1.1), no
    trailing blank."""
    return s.replace('\r\n', '\n').replace('\r', '\n').rstrip(' \t\r\n')


def differ(got, want):
    """Where got first differs from want, with some text around it."""
    i = 0
    while i < min(len(got), len(want)) and got[i] == want[i]:
        i += 1
    lo = max(0, i - 40)
    return 'at character %d of %d (want %d): got %r, want %r' % (i, len(got), len(want), got[lo:i + 60], want[lo:i + 60])


class Checker:
    def __init__(self, expect):
        self.expect = expect
        self.defects = []
        self.ids = {}
        self.checked = 0
        self.previews = None

    def bad(self, file, rcpt, what):
        self.defects.append({'file': file, 'rcpt': rcpt, 'what': what})

    def load_previews(self, d):
        """Reads and checks every <lang>.eml in d; keeps, per language, the
        lines of its text part that do not depend on the recipient."""
        self.previews = {}
        for name in sorted(os.listdir(d)):
            if not name.endswith('.eml'):
                continue
            lang = name[:-4]
            with open(os.path.join(d, name), 'rb') as f:
                raw = f.read()
            say = lambda what, name=name: self.bad('preview/' + name, '', what)
            meta = {'offered_8bitmime': False, 'offered_smtputf8': False, 'mail_options': []}
            self.check_bytes(raw, meta, say)
            head = raw.partition(b'\r\n\r\n')[0]
            self.check_header_lines(head, meta, say)
            try:
                BytesParser(policy=email.policy.strict).parsebytes(raw)
            except Exception as e:
                say('policy.strict parse: %s: %s' % (type(e).__name__, e))
            msg = BytesParser(policy=email.policy.default).parsebytes(raw)
            if str(msg.get('content-language', '')).strip() != lang:
                say('Content-Language %r in the preview of %s' % (str(msg.get('content-language')), lang))
            to = msg.get('to')
            who = []
            if to is not None and to.addresses:
                a = to.addresses[0]
                who = [w for w in (a.display_name, rfc2047_name(raw_header(msg, 'to')), a.addr_spec, a.username) if w]
            try:
                text = msg.get_body(('plain',)).get_content()
                html = msg.get_body(('html',)).get_content()
            except Exception as e:
                say('the preview has no readable text and HTML parts: %s' % e)
                continue
            m = HTML_LANG.search(html)
            if m is None or m.group(1) != lang:
                say('<html lang=%r> in the preview of %s' % (m.group(1) if m else None, lang))
            # Lines that name the preview's recipient (its name, address,
            # a count, a field the subject also shows) differ from one
            # recipient to the next; the rest is the language's own text.
            subject = ' '.join(str(msg.get('subject', '')).split())
            self.previews[lang] = [l for l in norm_body(text).split('\n')
                                   if l.strip() and not re.search(r'\d', l)
                                   and ' '.join(l.split()) not in subject
                                   and not any(re.search(r'(?<!\w)' + re.escape(w) + r'(?!\w)', l) for w in who)]
            if len(self.previews[lang]) < 3:
                say('the preview of %s has %d lines that name no recipient, too few to compare' % (lang, len(self.previews[lang])))

    def check(self, file, raw, meta):
        self.checked += 1
        rcpts = [r.lower() for r in meta.get('rcpts', [])]
        rcpt = rcpts[0] if rcpts else ''
        say = lambda what: self.bad(file, rcpt, what)
        if len(rcpts) != 1:
            say('envelope recipients %r, want exactly one' % rcpts)
        self.check_bytes(raw, meta, say)
        head, sep, _ = raw.partition(b'\r\n\r\n')
        if not sep:
            say('no blank line ends the header')
        self.check_header_lines(head, meta, say)

        # The strict policy raises on the first defect the parser registers.
        try:
            BytesParser(policy=email.policy.strict).parsebytes(raw)
        except Exception as e:  # any failure of the strict parse is a defect
            say('policy.strict parse: %s: %s' % (type(e).__name__, e))
        msg = BytesParser(policy=email.policy.default).parsebytes(raw)
        for part in msg.walk():
            for d in part.defects:
                say('parser defect in %s: %r' % (part.get_content_type(), d))
        # A message sent with SMTPUTF8 may have UTF-8 in its header (RFC
        # 6532); BytesParser reads a header as ASCII, so such a header is
        # read from the text. The body is read from the bytes either way.
        hmsg = msg
        utf8 = any(o.upper() == 'SMTPUTF8' for o in meta.get('mail_options', []))
        if utf8:
            try:
                hmsg = email.message_from_string(raw.decode('utf-8'), policy=email.policy.default.clone(utf8=True))
            except UnicodeDecodeError as e:
                say('a message sent with SMTPUTF8 is not UTF-8: %s' % e)
        names = [k.lower() for k in hmsg.keys()]
        for n in REQUIRED:
            if n not in names:
                say('no %s header' % n)
        for n in UNIQUE:
            if names.count(n) > 1:
                say('%d %s headers, want at most one' % (names.count(n), n))
        for k, v in hmsg.items():
            for d in getattr(v, 'defects', ()):
                if utf8 and isinstance(d, email.errors.NonASCIILocalPartDefect):
                    continue  # RFC 6532 allows it with SMTPUTF8
                say('header %s %r: defect %r' % (k, str(v), d))

        exp = self.expect.get(rcpt)
        if exp is None:
            say('a message to %r, who is not an expected recipient' % rcpt)
            return
        self.check_header_values(hmsg, exp, rcpt, say)
        self.check_body(msg, exp, meta, say)

    def check_bytes(self, raw, meta, say):
        eight = meta.get('offered_8bitmime', False)
        body8 = any(o.upper() == 'BODY=8BITMIME' for o in meta.get('mail_options', []))
        utf8 = any(o.upper() == 'SMTPUTF8' for o in meta.get('mail_options', []))
        if body8 and not eight:
            say('MAIL FROM says BODY=8BITMIME to a server that does not offer 8BITMIME')
        if utf8 and not meta.get('offered_smtputf8', False):
            say('MAIL FROM says SMTPUTF8 to a server that does not offer it')
        has8 = any(b >= 0x80 for b in raw)
        if has8 and not eight:
            say('an 8-bit byte sent to a server without 8BITMIME')
        if has8 and eight and not body8:
            say('an 8-bit byte in a message whose MAIL FROM did not say BODY=8BITMIME')
        if b'\x00' in raw:
            say('a NUL byte')
        if not raw.endswith(b'\r\n'):
            say('the message does not end with CRLF')
        lines = raw.split(b'\r\n')
        for i, line in enumerate(lines):
            if b'\n' in line:
                say('a bare LF in line %d: %r' % (i + 1, line[:80]))
            if b'\r' in line:
                say('a bare CR in line %d: %r' % (i + 1, line[:80]))
            if len(line) > 998:
                say('line %d is %d octets long, over 998' % (i + 1, len(line)))

    def check_header_lines(self, head, meta, say):
        utf8 = any(o.upper() == 'SMTPUTF8' for o in meta.get('mail_options', []))
        lines = head.split(b'\r\n')
        if lines and lines[0][:1] in (b' ', b'\t'):
            say('the header starts with a continuation line')
        for i, line in enumerate(lines):
            if not utf8 and any(b >= 0x80 for b in line):
                say('header line %d is not ASCII (no SMTPUTF8): %r' % (i + 1, line[:80]))
            if len(line) > 998:
                say('header line %d is %d octets long' % (i + 1, len(line)))
            if line[:1] in (b' ', b'\t'):
                if not line.strip(b' \t'):
                    say('header line %d is white space only (an empty folded line)' % (i + 1))
                continue
            name, colon, _ = line.partition(b':')
            if not colon or not FIELD_NAME.match(name):
                say('header line %d is neither a field nor a continuation: %r' % (i + 1, line[:80]))
        # Every encoded-word: at most 75 characters, a charset Python
        # knows, and text that decodes.
        text = head.decode('ascii', errors='replace')
        unfolded = re.sub(r'\r\n([ \t])', r'\1', text)
        for m in ENCODED_WORD.finditer(unfolded):
            w = m.group(0)
            if len(w) > 75:
                say('encoded-word of %d characters, over 75: %s' % (len(w), w))
            try:
                for b, cs in email.header.decode_header(w):
                    if isinstance(b, bytes):
                        b.decode(cs or 'ascii')
            except Exception as e:
                say('encoded-word %s does not decode: %s' % (w, e))
        for line in unfolded.split('\r\n'):
            name = line.partition(':')[0].lower()
            for m in ENCODED_WORD.finditer(line):
                # An encoded-word is a whole word (RFC 2047 5): white space
                # or the field's colon before it; white space, the end, or
                # (in a phrase) an angle-addr or a comma after it. One
                # glued to a quote is inside a quoted string, where it is
                # not decoded.
                before = line[:m.start()]
                after = line[m.end():]
                if before and not before.endswith((' ', '\t', ':')):
                    say('%s: encoded-word glued to the text before it: %r' % (name, line[:120]))
                if after and after[0] not in ' \t<,':
                    say('%s: encoded-word glued to the text after it: %r' % (name, line[:120]))

    def check_header_values(self, msg, exp, rcpt, say):
        subject = str(msg.get('subject', ''))
        if subject != exp['subject']:
            say('Subject decodes to something else %s' % differ(subject, exp['subject']))
        frm = msg.get('from')
        if frm is None or len(frm.addresses) != 1:
            say('From %r is not one mailbox' % (str(frm),))
        else:
            a = frm.addresses[0]
            name = a.display_name
            if name != exp['from_name'] and rfc2047_name(raw_header(msg, 'from')) == exp['from_name']:
                name = exp['from_name']
            if name != exp['from_name'] or a.addr_spec != exp['from_addr']:
                say('From is (%r, %r), want (%r, %r)' % (a.display_name, a.addr_spec, exp['from_name'], exp['from_addr']))
        to = msg.get('to')
        if to is None or len(to.addresses) != 1:
            say('To %r is not one mailbox' % (str(to),))
        else:
            a = to.addresses[0]
            want = one_line(exp['to_name'])
            if a.addr_spec.lower() != rcpt:
                say('To address %r, want %r' % (a.addr_spec, rcpt))
            if a.display_name != want and rfc2047_name(raw_header(msg, 'to')) != want:
                say('To name %r, want %r' % (a.display_name, want))
        if exp.get('reply_to'):
            rt = msg.get('reply-to')
            if rt is None or [a.addr_spec for a in rt.addresses] != [exp['reply_to']]:
                say('Reply-To %r, want %r' % (str(rt), exp['reply_to']))
        mid = msg.get('message-id')
        mid = str(mid).strip() if mid is not None else ''
        if not MSG_ID.match(mid):
            say('Message-ID %r is not <dot-atom@dot-atom>' % mid)
        elif mid in self.ids:
            say('Message-ID %s also on %s' % (mid, self.ids[mid]))
        else:
            self.ids[mid] = rcpt
        date = msg.get('date')
        if date is None or getattr(date, 'datetime', None) is None:
            say('Date %r does not parse' % (str(date),))
        elif date.datetime.tzinfo is None:
            say('Date %r has no zone' % str(date))
        if str(msg.get('mime-version', '')).strip() != '1.0':
            say('MIME-Version %r, want 1.0' % str(msg.get('mime-version')))
        lang = msg.get('content-language')
        if lang is not None:
            lang = str(lang).strip()
            if not LANG_TAG.match(lang):
                say('Content-Language %r is not a language tag' % lang)
            if lang.lower() != exp['lang'].lower():
                say('Content-Language %r, want %r' % (lang, exp['lang']))
        self.check_unsubscribe(msg, exp, say)

    def check_unsubscribe(self, msg, exp, say):
        lu = msg.get('list-unsubscribe')
        want = exp.get('unsubscribe') or []
        if lu is None:
            if want:
                say('no List-Unsubscribe, want %r' % want)
            return
        v = re.sub(r'\s+', '', str(lu))
        uris = re.findall(r'<([^<>]*)>', v)
        if ','.join('<%s>' % u for u in uris) != v:
            say('List-Unsubscribe %r is not <URI>, <URI> ...' % str(lu))
        if [urllib.parse.unquote(u) for u in uris] != [urllib.parse.unquote(u) for u in want]:
            say('List-Unsubscribe URIs %r, want %r' % (uris, want))
        for u in uris:
            p = urllib.parse.urlsplit(u)
            if p.scheme not in ('https', 'http', 'mailto'):
                say('List-Unsubscribe URI %r: scheme %r' % (u, p.scheme))
            if re.search(r'[^\x21-\x7e]', u) or re.search(r'%(?![0-9A-Fa-f]{2})', u):
                say('List-Unsubscribe URI %r holds a character a URI may not' % u)
        post = msg.get('list-unsubscribe-post')
        https = any(u.startswith('https:') for u in uris)
        if https and (post is None or str(post).strip() != 'List-Unsubscribe=One-Click'):
            say('List-Unsubscribe is https but List-Unsubscribe-Post is %r' % (str(post) if post else None))
        if not https and post is not None:
            say('List-Unsubscribe-Post without an https List-Unsubscribe')

    def check_body(self, msg, exp, meta, say):
        eight = meta.get('offered_8bitmime', False)
        if msg.get_content_type() != 'multipart/alternative':
            say('Content-Type %s, want multipart/alternative' % msg.get_content_type())
            return
        b = msg.get_boundary()
        if not b or len(b) > 70:
            say('boundary %r: empty or over 70 characters' % b)
        parts = list(msg.iter_parts())
        types = [p.get_content_type() for p in parts]
        if types != ['text/plain', 'text/html']:
            say('parts %r, want text/plain then text/html' % types)
            return
        for p, want in zip(parts, (exp['text'], exp['html'])):
            ct = p.get_content_type()
            cs = p.get_param('charset')
            cte = str(p.get('content-transfer-encoding', '7bit')).strip().lower()
            raw = p.get_payload(decode=False)
            if cte not in ('7bit', '8bit', 'quoted-printable', 'base64'):
                say('%s: Content-Transfer-Encoding %r' % (ct, cte))
            if cte == '8bit' and not eight:
                say('%s: 8bit part to a server without 8BITMIME' % ct)
            if cte == '7bit' and any(ord(c) >= 0x80 for c in raw):
                say('%s: a 7bit part holds a non-ASCII character' % ct)
            if cs is None:
                say('%s: no charset' % ct)
                continue
            if cs.lower() != 'utf-8':
                say('%s: charset %r, want utf-8' % (ct, cs))
            try:
                got = p.get_payload(decode=True).decode(cs, errors='strict')
            except Exception as e:
                say('%s: does not decode as %s: %s' % (ct, cs, e))
                continue
            if norm_body(got) != norm_body(want):
                say('%s differs from the rendering %s' % (ct, differ(norm_body(got), norm_body(want))))
            if ct == 'text/plain' and self.previews is not None:
                lines = set(norm_body(got).split('\n'))
                pv = self.previews.get(exp['lang'])
                if pv is None:
                    say('no preview of %r to compare with' % exp['lang'])
                else:
                    missing = [l for l in pv if l not in lines]
                    if missing:
                        say('text/plain lacks %d lines of the %s preview, first %r' % (len(missing), exp['lang'], missing[0]))
            if ct == 'text/html':
                m = HTML_LANG.search(got)
                if m is None or m.group(1) != exp['lang']:
                    say('text/html: <html lang=%r>, want %r' % (m.group(1) if m else None, exp['lang']))


def wire_address(addr):
    local, _, domain = addr.rpartition('@')
    try:
        domain.encode('ascii')
    except UnicodeEncodeError:
        domain = domain.encode('idna').decode('ascii')
    return (local + '@' + domain).lower()


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    d, expfile = sys.argv[1], sys.argv[2]
    with open(expfile, encoding='utf-8') as f:
        expect = json.load(f)
    # An address with a non-ASCII domain goes on the wire with its A-label
    # (IDNA) domain.
    expect = {wire_address(k): v for k, v in expect.items()}
    c = Checker(expect)
    if len(sys.argv) == 4:
        c.load_previews(sys.argv[3])
    new = os.path.join(d, 'new')
    for name in sorted(os.listdir(new)):
        if not name.endswith('.eml'):
            continue
        with open(os.path.join(new, name), 'rb') as f:
            raw = f.read()
        with open(os.path.join(new, name[:-4] + '.json'), encoding='utf-8') as f:
            meta = json.load(f)
        c.check(name, raw, meta)
    json.dump({'checked': c.checked, 'defects': c.defects}, sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main())
