#!/usr/bin/python3
"""rawsmtpd: an aiosmtpd server that keeps every message exactly as it came
over the wire, for mimecheck.py to read.

Python's Mailbox handler parses and re-writes what it stores; this one does
not. Each message is written to DIR/tmp and renamed into DIR/new as
<n>.eml (the DATA bytes, dot-stuffing undone, nothing else changed), beside
<n>.json: the envelope (MAIL FROM, its parameters, RCPT TO) and what the
server offered (8BITMIME, SMTPUTF8).

    rawsmtpd.py --listen 127.0.0.1:PORT --dir DIR [--no-8bitmime]

--no-8bitmime: EHLO offers neither 8BITMIME nor SMTPUTF8, as a strictly
7-bit server; the message is still stored, so that the checker, not the
server, reports an 8-bit byte.
"""
import argparse
import asyncio
import itertools
import json
import os

from aiosmtpd.smtp import SMTP


class NoEightBit(SMTP):
    """An SMTP session whose EHLO answer leaves out 8BITMIME."""

    async def push(self, status):
        if status.startswith('250-8BITMIME') or status.startswith('250 8BITMIME'):
            return
        await super().push(status)


class Store:
    def __init__(self, root, eight_bit):
        self.root = root
        self.eight_bit = eight_bit
        self.seq = itertools.count(1)
        for d in ('tmp', 'new'):
            os.makedirs(os.path.join(root, d), exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        n = '%d-%07d' % (os.getpid(), next(self.seq))
        meta = {
            'mail_from': envelope.mail_from,
            'mail_options': envelope.mail_options,
            'rcpts': envelope.rcpt_tos,
            'offered_8bitmime': self.eight_bit,
            'offered_smtputf8': self.eight_bit,
        }
        tmp = os.path.join(self.root, 'tmp')
        new = os.path.join(self.root, 'new')
        with open(os.path.join(tmp, n + '.json'), 'w') as f:
            json.dump(meta, f)
        with open(os.path.join(tmp, n + '.eml'), 'wb') as f:
            f.write(envelope.original_content)
        # The sidecar first: a .eml in new/ always has its .json.
        os.rename(os.path.join(tmp, n + '.json'), os.path.join(new, n + '.json'))
        os.rename(os.path.join(tmp, n + '.eml'), os.path.join(new, n + '.eml'))
        return '250 OK stored ' + n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--listen', required=True)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--no-8bitmime', action='store_true')
    a = ap.parse_args()
    host, port = a.listen.rsplit(':', 1)
    eight = not a.no_8bitmime
    handler = Store(a.dir, eight)
    cls = SMTP if eight else NoEightBit

    def factory():
        return cls(handler, hostname='rawsmtpd.tidings.test', enable_SMTPUTF8=eight)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    srv = loop.run_until_complete(loop.create_server(factory, host=host, port=int(port)))
    try:
        loop.run_forever()
    finally:
        srv.close()


if __name__ == '__main__':
    main()
