"""An aiosmtpd handler for the e2e storm test (storm_test.go): a relay in
an error storm, switched by the file `phase` in its directory (the first
argument): "4xx" answers every RCPT 421 4.7.0 or 451 4.7.1; "drop"
answers 550 5.7.1 to a third of the recipients (u00000, u00003, ...) and
reads the whole message of every seventh (u00001, u00008, ...), then
closes the connection without a reply; anything else accepts. Every RCPT
is logged to `rcpt` (and each drop there too, as dropped:ADDRESS, in
order), every message read and dropped to `dropped`, every message
accepted to `delivered` (one address a line)."""
import pathlib


class Storm:
    def __init__(self, directory):
        self.dir = pathlib.Path(directory)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("Storm takes one argument: its directory")
        return cls(args[0])

    def _phase(self):
        try:
            return (self.dir / "phase").read_text().strip()
        except FileNotFoundError:
            return ""

    def _log(self, name, line):
        with open(self.dir / name, "a") as f:
            f.write(line + "\n")
            f.flush()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self._log("rcpt", address)
        n = int(address[1:6])
        phase = self._phase()
        if phase == "4xx":
            if n % 2 == 0:
                return "421 4.7.0 try again later"
            return "451 4.7.1 greylisted, try again later"
        if phase == "drop" and n % 3 == 0:
            return "550 5.7.1 message rejected by policy"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def _data(self, server, envelope, drop):
        """Reads the message: logs it delivered, or, when drop says so of
        its first recipient, dropped, and closes the connection unanswered."""
        rcpt = envelope.rcpt_tos[0]
        if drop(int(rcpt[1:6])):
            self._log("dropped", rcpt)
            self._log("rcpt", "dropped:" + rcpt)
            server.transport.close()
            return "250 OK (never written: the connection is closed)"
        for r in envelope.rcpt_tos:
            self._log("delivered", r)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return self._data(server, envelope, lambda n: self._phase() == "drop" and n % 7 == 1)
