"""An aiosmtpd handler for the e2e test of a relay that degrades partly
(partial_test.go), per recipient domain, switched by the file `phase` in
its directory (the first argument). In the phase "degraded":
throttled.example is answered 421 4.7.0 (every other one, and the
connection closed) or 451 4.7.1,
slow.example takes 2 s a recipient; in every phase refusing.example is
answered 550 5.1.1, and the message of every twentieth recipient
(u00003, u00023, ...) is read whole, then the connection closed without
a reply. Every RCPT is logged to `rcpt` (and each drop there too, as
dropped:ADDRESS, in order), every MAIL FROM to `mail`, every message
read and dropped to `dropped`, every message accepted to `delivered`
(one address a line)."""
import asyncio

from stormrelay import Storm


class Partial(Storm):
    """Storm's directory, phase and logs; its own replies."""

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self._log("mail", address or "<>")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self._log("rcpt", address)
        n = int(address[1:6])
        domain = address.rsplit("@", 1)[1]
        degraded = self._phase() == "degraded"
        if domain == "refusing.example":
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if domain == "throttled.example" and degraded:
            if n % 8 == 0:
                # 421 closes the connection (RFC 5321 4.2.2), as Postfix
                # does: once this reply is written.
                asyncio.get_running_loop().call_soon(server.transport.close)
                return "421 4.7.0 throttled.example: too many messages, slow down"
            return "451 4.7.1 <%s>: try again later" % address
        if domain == "slow.example" and degraded:
            await asyncio.sleep(2)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return self._data(server, envelope, lambda n: n % 20 == 3)
