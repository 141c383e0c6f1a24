#!/usr/bin/env python3
"""sms_bodies.py N [URL]: N signed inbound-SMS webhooks, each with its own MessageSid.

Prints one line per request: the X-Twilio-Signature, a tab, the form body. Signed as Twilio
does (HMAC-SHA1 over URL + sorted name/value pairs, base64) with TWILIO_AUTH_TOKEN (default:
the bench harness's fixed token) for URL (default the harness's candidate URL).
"""
import base64, hashlib, hmac, os, sys, urllib.parse

n = int(sys.argv[1])
url = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:18090/sms"
token = os.environ.get("TWILIO_AUTH_TOKEN", "12345678901234567890123456789012").encode()
base = {
    "AccountSid": "AC0123456789abcdef0123456789abcdef", "ApiVersion": "2010-04-01",
    "Body": "Hello & <goodbye>", "From": "+14155551234", "FromCity": "OAKLAND", "FromCountry": "US",
    "FromState": "CA", "FromZip": "94607", "MessagingServiceSid": "", "NumMedia": "0",
    "NumSegments": "1", "SmsStatus": "received", "To": "+15005550006", "ToCity": "SAN FRANCISCO",
    "ToCountry": "US", "ToState": "CA", "ToZip": "94105",
}
out = sys.stdout
for i in range(n):
    sid = "SM%032x" % i
    params = dict(base, MessageSid=sid, SmsMessageSid=sid, SmsSid=sid)
    signed = url + "".join(k + v for k, v in sorted(params.items()))
    sig = base64.b64encode(hmac.new(token, signed.encode(), hashlib.sha1).digest()).decode()
    out.write(sig + "\t" + urllib.parse.urlencode(params) + "\n")
