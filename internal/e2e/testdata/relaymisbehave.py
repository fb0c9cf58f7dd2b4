"""An aiosmtpd handler for the e2e relay red team (relay_test.go): a
relay that misbehaves at the protocol level, by the recipient's local
part (its prefix before "-"):

  full   452 4.5.3 (too many recipients) to the first RCPT, then accepts;
  shut   421 4.3.2 to the first RCPT, then accepts;
  slow   the first RCPT is answered only after `slow` seconds (the second
         argument, longer than the worker's smtp.timeout), then accepts;
  big    552 5.3.4 (message too large) to the end of every message;
  lost   reads the whole message, then closes the connection without a
         reply (the client cannot know: in doubt);
  bye    accepts the message (250), then closes the connection before
         QUIT;
  other  accepts.

Every MAIL's address is logged to `mail`, every RCPT to `rcpt` in the directory (the first argument),
every message read and dropped to `dropped`, every message accepted to
`delivered` (one address a line), and each accepted message is kept as
`msgs/ADDRESS.N` (N counts from 1)."""
import asyncio
import pathlib


class Misbehave:
    def __init__(self, directory, slow):
        self.dir = pathlib.Path(directory)
        (self.dir / "msgs").mkdir(parents=True, exist_ok=True)
        self.slow = float(slow)
        self.seen = {}

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 2:
            parser.error("Misbehave takes two arguments: its directory and the tarpit's seconds")
        return cls(args[0], args[1])

    def _log(self, name, line):
        with open(self.dir / name, "a") as f:
            f.write(line + "\n")

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self._log("mail", address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self._log("rcpt", address)
        kind = address.split("-", 1)[0]
        n = self.seen[address] = self.seen.get(address, 0) + 1
        if n == 1 and kind == "full":
            return "452 4.5.3 Error: too many recipients"
        if n == 1 and kind == "shut":
            return "421 4.3.2 Service shutting down, closing transmission channel"
        if n == 1 and kind == "slow":
            await asyncio.sleep(self.slow)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        rcpt = envelope.rcpt_tos[0]
        kind = rcpt.split("-", 1)[0]
        if kind == "big":
            return "552 5.3.4 Error: message file too big"
        if kind == "lost":
            self._log("dropped", rcpt)
            server.transport.close()
            return "250 2.0.0 Ok (never written: the connection is closed)"
        for r in envelope.rcpt_tos:
            self._log("delivered", r)
            k = 1
            while (self.dir / "msgs" / f"{r}.{k}").exists():
                k += 1
            (self.dir / "msgs" / f"{r}.{k}").write_bytes(envelope.original_content)
        if kind == "bye":
            await server.push("250 2.0.0 Ok: queued")
            server.transport.close()
            return "250 2.0.0 Ok (never written: the connection is closed)"
        return "250 2.0.0 Ok: queued"
