-- wrk script: each request a new signed inbound SMS (its own MessageSid), read from the file
-- named by SMS_BODIES (lines "signature<TAB>body", from benches/sms_bodies.py).
local path = os.getenv("SMS_BODIES")
local sigs, bodies = {}, {}
for line in io.lines(path) do
  local tab = line:find("\t", 1, true)
  sigs[#sigs + 1] = line:sub(1, tab - 1)
  bodies[#bodies + 1] = line:sub(tab + 1)
end
local n, i = #bodies, 0
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["User-Agent"] = "TwilioProxy/1.1" }

request = function()
  i = i + 1
  if i > n then i = 1 end -- past the end the bodies repeat, and the server sees replays
  headers["X-Twilio-Signature"] = sigs[i]
  return wrk.format("POST", nil, headers, bodies[i])
end
