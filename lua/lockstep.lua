-- Lockstep bridge script for FCEUX: runs the game one frame per action received from the Lockstep bridge over a WebSocket.
--
-- Launch mode: Lockstep starts FCEUX with `--loadlua lockstep.lua` and passes LOCKSTEP_HOST, LOCKSTEP_PORT,
-- LOCKSTEP_TOKEN and LOCKSTEP_LAUNCHED=1 in the environment. Attach mode: start FCEUX yourself, fill in the
-- CONFIG line below (port and token as Lockstep shows them) and load this file from File > Lua > New Lua Script Window.
--
-- Exit codes (launch mode; in attach mode the script stops with the same message instead of ending FCEUX):
--   0  the bridge said quit
--   2  bad configuration (no port/token, LuaSocket missing)
--   3  the bridge refused the session token (close 4001)
--   4  the bridge is gone (connection lost and every reconnect attempt failed)
--   5  protocol error (version mismatch 4005, malformed messages, failed handshake, no welcome)
--   6  another emulator replaced this one (close 4009)
--   7  internal error in this script
-- Tuning (environment, milliseconds): LOCKSTEP_HEARTBEAT_MS (1000) idle time before a heartbeat is sent,
-- LOCKSTEP_DEAD_MS (5000) silence after which the bridge counts as hung and the script reconnects,
-- LOCKSTEP_HELLO_MS (5000) wait for the welcome, LOCKSTEP_RECONNECT_TRIES (5) retries after the first attempt,
-- LOCKSTEP_RECONNECT_MS (100) delay before the first retry, doubling each time.

local CONFIG = { host = "127.0.0.1", port = 0, token = "" }

local PROTOCOL = 1
local EXIT = { quit = 0, config = 2, bad_token = 3, bridge_gone = 4, protocol = 5, replaced = 6, internal = 7 }
-- RFC 6455 section 1.3 sample key: its accept value is a constant, so no SHA-1 is needed here.
local WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
local WS_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

local launched = os.getenv("LOCKSTEP_LAUNCHED") == "1"

local function log(level, message)
  -- print() goes to FCEUX's Qt console; stdout/stderr reach whoever launched FCEUX.
  local f = (level == "error" or level == "warn") and io.stderr or io.stdout
  f:write("lockstep.lua: ", level, ": ", message, "\n")
  f:flush()
end

-- Raised inside protected code; the top level turns it into an exit (launch) or a script stop (attach).
local function fatal(code, message)
  error({ lockstep_fatal = true, code = code, message = message }, 0)
end

local function env_number(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  local n = tonumber(v)
  if n == nil then
    log("error", name .. " must be a number, got " .. v)
    if launched then os.exit(EXIT.config) end
    error("lockstep.lua: " .. name .. " must be a number, got " .. v, 0)
  end
  return n
end

local settings = {
  host = os.getenv("LOCKSTEP_HOST") or CONFIG.host,
  port = env_number("LOCKSTEP_PORT", CONFIG.port),
  token = os.getenv("LOCKSTEP_TOKEN") or CONFIG.token,
  heartbeat = env_number("LOCKSTEP_HEARTBEAT_MS", 1000) / 1000,
  dead = env_number("LOCKSTEP_DEAD_MS", 5000) / 1000,
  hello = env_number("LOCKSTEP_HELLO_MS", 5000) / 1000,
  tries = env_number("LOCKSTEP_RECONNECT_TRIES", 5),
  backoff = env_number("LOCKSTEP_RECONNECT_MS", 100) / 1000,
}

local socket_lib -- set once LuaSocket is loaded
local script_started

-- FCEUX (Qt) can crash inside exit() while its window system is still starting up (about the first 100 ms after the
-- first frame): an early exit waits until the script has run for MIN_LIFETIME seconds.
local MIN_LIFETIME = 0.5

local function stop(code, message)
  if launched then
    if code == 0 then log("info", message) else log("error", message) end
    if socket_lib and script_started then
      local left = MIN_LIFETIME - (socket_lib.gettime() - script_started)
      if left > 0 then socket_lib.sleep(left) end
    end
    os.exit(code)
  end
  emu.speedmode("normal")
  if code == 0 then
    log("info", message)
    return "stopped"
  end
  error("lockstep.lua: " .. message, 0)
end

if settings.port == 0 or settings.token == "" then
  stop(EXIT.config, "no bridge configured: set LOCKSTEP_PORT and LOCKSTEP_TOKEN, or fill in CONFIG at the top of lockstep.lua")
end

local has_socket, socket = pcall(require, "socket")
if not has_socket then
  stop(EXIT.config, "LuaSocket not found (" .. tostring(socket) .. "): install it (Debian/Ubuntu: sudo apt-get install lua-socket)")
end

socket_lib = socket
script_started = socket.gettime()

local char, byte, floor, concat = string.char, string.byte, math.floor, table.concat

local function now_ms() return socket.gettime() * 1000 end

---------------------------------------------------------------------------------------------------- base64

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
-- 12 bits -> two characters: halves the table lookups for the per-frame RAM encoding.
local B64_PAIR = {}
for i = 0, 4095 do
  local hi, lo = floor(i / 64), i % 64
  B64_PAIR[i] = B64:sub(hi + 1, hi + 1) .. B64:sub(lo + 1, lo + 1)
end
local B64_VALUE = {}
for i = 1, 64 do B64_VALUE[byte(B64, i)] = i - 1 end

local function base64_encode(s)
  local out, n, len = {}, 0, #s
  local full = len - len % 3
  for i = 1, full, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = a * 65536 + b * 256 + c
    local hi = floor(v / 4096)
    -- Two table slots rather than one joined string: Lua 5.1 interns every intermediate string.
    out[n + 1] = B64_PAIR[hi]
    out[n + 2] = B64_PAIR[v - hi * 4096]
    n = n + 2
  end
  local rest = len - full
  if rest == 1 then
    local v = byte(s, len) * 16
    n = n + 1
    out[n] = B64_PAIR[v] .. "=="
  elseif rest == 2 then
    local a, b = byte(s, len - 1, len)
    local v = (a * 256 + b) * 4
    n = n + 1
    out[n] = B64_PAIR[floor(v / 64)] .. B64:sub(v % 64 + 1, v % 64 + 1) .. "="
  end
  return concat(out)
end

local function base64_decode(s)
  s = s:gsub("[^%w%+/]", "")
  local out, n, acc, bits = {}, 0, 0, 0
  for i = 1, #s do
    acc = acc * 64 + B64_VALUE[byte(s, i)]
    bits = bits + 6
    if bits >= 8 then
      bits = bits - 8
      local p = 2 ^ bits
      n = n + 1
      out[n] = char(floor(acc / p))
      acc = acc % p
    end
  end
  return concat(out)
end

---------------------------------------------------------------------------------------------------- JSON

local JSON_ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function json_string(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c)
    return JSON_ESCAPES[c] or string.format("\\u%04x", byte(c))
  end) .. '"'
end

local function json_encode(v)
  local t = type(v)
  if t == "string" then return json_string(v) end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if v == floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
    return string.format("%.17g", v)
  end
  if t == "boolean" then return tostring(v) end
  if t == "table" then
    if v[1] ~= nil or next(v) == nil and v.__array then
      local parts = {}
      for i = 1, #v do parts[i] = json_encode(v[i]) end
      return "[" .. concat(parts, ",") .. "]"
    end
    local parts = {}
    for k, x in pairs(v) do
      if k ~= "__array" then parts[#parts + 1] = json_string(k) .. ":" .. json_encode(x) end
    end
    return "{" .. concat(parts, ",") .. "}"
  end
  return "null"
end

-- A small recursive-descent decoder: the bridge only sends short messages of objects, arrays, numbers, strings, booleans.
local json_decode
do
  local s, pos
  local function err(what) error("bad JSON at " .. pos .. ": " .. what, 0) end
  local function skip() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local value
  local function str()
    local out, n = {}, 0
    pos = pos + 1
    while true do
      local a, b = s:find('["\\]', pos)
      if not a then err("unterminated string") end
      n = n + 1
      out[n] = s:sub(pos, a - 1)
      if s:sub(a, a) == '"' then pos = a + 1 break end
      local e = s:sub(a + 1, a + 1)
      local map = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
      if map[e] then
        n = n + 1
        out[n] = map[e]
        pos = a + 2
      elseif e == "u" then
        local code = tonumber(s:sub(a + 2, a + 5), 16) or err("bad \\u escape")
        n = n + 1
        out[n] = code < 128 and char(code) or "?"
        pos = a + 6
      else
        err("bad escape")
      end
    end
    return concat(out)
  end
  function value()
    skip()
    local c = s:sub(pos, pos)
    if c == "{" then
      local obj = {}
      pos = pos + 1
      skip()
      if s:sub(pos, pos) == "}" then pos = pos + 1 return obj end
      while true do
        skip()
        if s:sub(pos, pos) ~= '"' then err("expected a key") end
        local k = str()
        skip()
        if s:sub(pos, pos) ~= ":" then err("expected ':'") end
        pos = pos + 1
        obj[k] = value()
        skip()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return obj end
        if d ~= "," then err("expected ',' or '}'") end
      end
    elseif c == "[" then
      local arr, n = {}, 0
      pos = pos + 1
      skip()
      if s:sub(pos, pos) == "]" then pos = pos + 1 return arr end
      while true do
        n = n + 1
        arr[n] = value()
        skip()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return arr end
        if d ~= "," then err("expected ',' or ']'") end
      end
    elseif c == '"' then
      return str()
    elseif s:sub(pos, pos + 3) == "true" then
      pos = pos + 4
      return true
    elseif s:sub(pos, pos + 4) == "false" then
      pos = pos + 5
      return false
    elseif s:sub(pos, pos + 3) == "null" then
      pos = pos + 4
      return nil
    else
      local a, b = s:find("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not a then err("unexpected character " .. c) end
      pos = b + 1
      return tonumber(s:sub(a, b)) or err("bad number")
    end
  end
  json_decode = function(text)
    s, pos = text, 1
    local v = value()
    skip()
    if pos <= #s then err("trailing characters") end
    return v
  end
end

---------------------------------------------------------------------------------------------------- WebSocket client

-- Read exactly n bytes: a timeout before any byte of a message arrived is reported as "timeout" (idle); once a
-- message started, the rest must follow within the dead-bridge limit.
local function read_exact(sock, n, timeout)
  sock:settimeout(timeout)
  local data, err, partial = sock:receive(n)
  if data then return data end
  if err ~= "timeout" then return nil, err end
  if partial == nil or partial == "" then return nil, "timeout" end
  sock:settimeout(settings.dead)
  local rest, err2 = sock:receive(n - #partial)
  if not rest then return nil, err2 == "timeout" and "stalled mid-message" or err2 end
  return partial .. rest
end

local function length_bytes(len)
  if len < 126 then return char(0x80 + len) end
  if len < 65536 then return char(0x80 + 126, floor(len / 256), len % 256) end
  local b = {}
  for i = 8, 1, -1 do
    b[i] = len % 256
    len = floor(len / 256)
  end
  return char(0x80 + 127, b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8])
end

-- Client frames must be masked; an all-zero mask leaves the payload bytes unchanged.
local ZERO_MASK = "\0\0\0\0"

-- Sends one message whose payload is `payload` followed by the optional `tail` (a screen): the tail goes out with a
-- send of its own rather than being copied into one quarter-megabyte string.
local function ws_send(conn, opcode, payload, tail)
  local len = #payload
  if tail then len = len + #tail end
  local header = char(0x80 + opcode) .. length_bytes(len) .. ZERO_MASK
  conn.sock:settimeout(settings.dead)
  local ok, err
  if #payload > 4096 then
    ok, err = conn.sock:send(header)
    if ok then ok, err = conn.sock:send(payload) end
  else
    ok, err = conn.sock:send(header .. payload)
  end
  if ok and tail then ok, err = conn.sock:send(tail) end
  if not ok then return nil, err end
  return true
end

local function ws_close(conn, code, reason)
  if conn.closed then return end
  conn.closed = true
  pcall(ws_send, conn, 8, char(floor(code / 256), code % 256) .. (reason or ""))
  pcall(function() conn.sock:close() end)
end

-- Returns opcode (1 text, 2 binary), payload; or nil, "timeout" | "closed" | error text, close code, close reason.
local function ws_receive(conn, timeout)
  local parts, first_opcode = nil, nil
  while true do
    local h, err = read_exact(conn.sock, 2, parts and settings.dead or timeout)
    if not h then return nil, err end
    local b1, b2 = byte(h, 1, 2)
    local fin = b1 >= 128
    local opcode = b1 % 16
    local masked = b2 >= 128
    local len = b2 % 128
    if len == 126 then
      local x, e = read_exact(conn.sock, 2, settings.dead)
      if not x then return nil, e end
      local p, q = byte(x, 1, 2)
      len = p * 256 + q
    elseif len == 127 then
      local x, e = read_exact(conn.sock, 8, settings.dead)
      if not x then return nil, e end
      len = 0
      for i = 1, 8 do len = len * 256 + byte(x, i) end
    end
    local mask
    if masked then
      local e
      mask, e = read_exact(conn.sock, 4, settings.dead)
      if not mask then return nil, e end
    end
    local payload = ""
    if len > 0 then
      local e
      payload, e = read_exact(conn.sock, len, settings.dead)
      if not payload then return nil, e end
    end
    if masked then
      -- Servers do not mask (RFC 6455 5.1); handled anyway, slowly, to stay tolerant.
      local m, out = { byte(mask, 1, 4) }, {}
      for i = 1, #payload do out[i] = char(bit.bxor(byte(payload, i), m[(i - 1) % 4 + 1])) end
      payload = concat(out)
    end
    if opcode == 8 then
      local code, reason = 1005, ""
      if #payload >= 2 then
        local p, q = byte(payload, 1, 2)
        code, reason = p * 256 + q, payload:sub(3)
      end
      ws_close(conn, code == 1005 and 1000 or code, "")
      return nil, "closed", code, reason
    elseif opcode == 9 then
      local ok, e = ws_send(conn, 10, payload)
      if not ok then return nil, e end
    elseif opcode == 10 then
      -- pong: nothing to do
    elseif opcode == 0 then
      if not parts then return nil, "continuation frame without a start" end
      parts[#parts + 1] = payload
      if fin then return first_opcode, concat(parts) end
    elseif opcode == 1 or opcode == 2 then
      if fin then return opcode, payload end
      parts, first_opcode = { payload }, opcode
    else
      return nil, "unknown WebSocket opcode " .. opcode
    end
  end
end

local function ws_connect(host, port, path, timeout)
  local sock = socket.tcp()
  sock:settimeout(timeout)
  local ok, err = sock:connect(host, port)
  if not ok then
    sock:close()
    return nil, "connect " .. host .. ":" .. port .. ": " .. tostring(err)
  end
  sock:setoption("tcp-nodelay", true)
  -- Room for a whole state with its screen (~250 KB): with the default buffer every screen send waits for the bridge
  -- to drain part of it. Older LuaSocket builds lack the option; they only lose that speed.
  pcall(sock.setoption, sock, "send-buffer-size", 1048576)
  local request = "GET " .. path .. " HTTP/1.1\r\n" ..
    "Host: " .. host .. ":" .. port .. "\r\n" ..
    "Upgrade: websocket\r\nConnection: Upgrade\r\n" ..
    "Sec-WebSocket-Key: " .. WS_KEY .. "\r\nSec-WebSocket-Version: 13\r\n\r\n"
  ok, err = sock:send(request)
  if not ok then
    sock:close()
    return nil, "handshake send: " .. tostring(err)
  end
  local status, e = sock:receive("*l")
  if not status then
    sock:close()
    return nil, "handshake: " .. tostring(e)
  end
  local accept
  while true do
    local line, e2 = sock:receive("*l")
    if not line then
      sock:close()
      return nil, "handshake: " .. tostring(e2)
    end
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k and k:lower() == "sec-websocket-accept" then accept = v end
  end
  if not status:match("^HTTP/1%.1 101") then
    sock:close()
    return nil, "bridge refused the WebSocket upgrade: " .. status, "refused"
  end
  if accept ~= WS_ACCEPT then
    sock:close()
    return nil, "bad Sec-WebSocket-Accept " .. tostring(accept), "refused"
  end
  return { sock = sock, closed = false }
end

---------------------------------------------------------------------------------------------------- session

local BUTTON_KEYS = { { 1, "A" }, { 2, "B" }, { 4, "select" }, { 8, "start" }, { 16, "up" }, { 32, "down" }, { 64, "left" }, { 128, "right" } }
-- Every button is set explicitly (false = released) so keyboard input cannot leak into a lockstep run.
local PAD = {}
for mask = 0, 255 do
  local t = {}
  for _, kb in ipairs(BUTTON_KEYS) do t[kb[2]] = floor(mask / kb[1]) % 2 == 1 end
  PAD[mask] = t
end

local session = {
  conn = nil,
  ram = { { 0, 0x800 } },
  screen = false,
  -- the bridge asked for binary "LSST" states (welcome.binaryState) instead of JSON with base64 RAM
  binary = false,
  -- welcome.screenFile opened for writing: screens of stepped frames go there instead of over the socket
  screen_file = nil,
  screen_file_path = nil,
  -- slot number -> { state = savestate object, screen = gd picture taken with it }
  slots = {},
  -- gd picture of the current frame once taken (or restored by a load); cleared when a frame runs
  screen_now = nil,
  last_heard = 0,
  heartbeat_seq = 0,
}

local function rom_info()
  local name = rom.getfilename and rom.getfilename() or ""
  local md5 = ""
  if rom.gethash then
    local ok, h = pcall(rom.gethash, "md5")
    if ok and type(h) == "string" then md5 = h end
  end
  return { name = name or "", md5 = md5 }
end

local function send_json(text)
  if not session.conn then return nil, "not connected" end
  return ws_send(session.conn, 1, text)
end

local function u16(n) return char(n % 256, floor(n / 256) % 256) end
local function u32(n) return char(n % 256, floor(n / 256) % 256, floor(n / 65536) % 256, floor(n / 16777216) % 256) end

-- The picture of the current frame. savestate.load does not restore FCEUX's picture, so each snapshot keeps the
-- picture it was taken with, and a load makes that the current one until the next frame runs.
local function current_screen()
  if not session.screen_now then session.screen_now = gui.gdscreenshot() end
  return session.screen_now
end

-- The requested RAM ranges, concatenated (one string without a table when there is one range, the usual case).
local function read_ram()
  local ranges = session.ram
  if #ranges == 1 then
    local r = ranges[1]
    return r[2] > 0 and memory.readbyterange(r[1], r[2]) or ""
  end
  local parts = {}
  for i, r in ipairs(ranges) do parts[i] = r[2] > 0 and memory.readbyterange(r[1], r[2]) or "" end
  return concat(parts)
end

-- "LSSC" header of a gd screen (format 2) for frame fc; the size comes from the GD header (big-endian u16s at bytes 3-6).
local function screen_header(gd, fc)
  local w, h = byte(gd, 3) * 256 + byte(gd, 4), byte(gd, 5) * 256 + byte(gd, 6)
  return "LSSC" .. char(1, 2) .. u16(w) .. u16(h) .. u32(fc)
end

local TWO_32 = 4294967296

local function close_screen_file()
  if session.screen_file then pcall(session.screen_file.close, session.screen_file) end
  session.screen_file, session.screen_file_path = nil, nil
end

-- Opens the file the bridge offered for screens. Only an existing file named lockstep-screen-*.gd is written to, so a
-- bridge cannot make this script overwrite anything else; on any failure screens simply keep going over the socket.
local function open_screen_file(path)
  if path == session.screen_file_path and session.screen_file then return end
  close_screen_file()
  if not (path:match("^lockstep%-screen%-%w+%.gd$") or path:match("[/\\]lockstep%-screen%-%w+%.gd$")) then
    log("warn", "ignoring screen file " .. path .. ": not a lockstep-screen-*.gd file")
    return
  end
  local f, err = io.open(path, "r+b")
  if not f then
    log("warn", "cannot open screen file (" .. tostring(err) .. "): screens go over the socket")
    return
  end
  -- Unbuffered: the screen must be in the file before the state that announces it leaves.
  f:setvbuf("no")
  session.screen_file, session.screen_file_path = f, path
end

-- Writes a screen frame to the screen file; false (and socket screens from then on) if that fails.
local function write_screen_file(gd, fc)
  local f = session.screen_file
  local ok, err = f:seek("set", 0)
  if ok then ok, err = f:write(screen_header(gd, fc), gd) end
  if ok then return true end
  log("warn", "writing the screen file failed (" .. tostring(err) .. "): screens go over the socket")
  close_screen_file()
  return false
end

-- Sends the state of the frame about to run. Binary (welcome.binaryState): one "LSST" message with the RAM and, when
-- asked for, the screen inside; the per-frame path then has no base64 and no JSON. `stepped` (the state answers an
-- action) lets the screen go to the screen file instead: the bridge reads it before it sends the next action, which is
-- what makes rewriting the one file safe. Otherwise a JSON state with base64 RAM, and the screen as a binary "LSSC"
-- frame (format 2 = gd bytes).
local function send_state(screen, stepped)
  local fc = emu.framecount()
  local ram = read_ram()
  local lag = emu.lagged() == true
  if session.binary then
    local gd = screen and current_screen()
    local in_file = gd and stepped and session.screen_file and write_screen_file(gd, fc)
    local flags = (lag and 1 or 0) + (in_file and 4 or (screen and 2 or 0))
    local us = floor(socket.gettime() * 1000000 + 0.5)
    local hi = floor(us / TWO_32)
    local head = "LSST" .. char(1, flags, 0, 0) .. u32(fc) .. u32(us - hi * TWO_32) .. u32(hi) .. u32(#ram) .. ram
    if not gd or in_file then return ws_send(session.conn, 2, head) end
    return ws_send(session.conn, 2, head .. screen_header(gd, fc), gd)
  end
  local text = string.format('{"type":"state","frame":%d,"timestamp":%.3f,"ram":"%s","lag":%s,"screen":%s}',
    fc, now_ms(), base64_encode(ram), tostring(lag), tostring(screen))
  local ok, err = send_json(text)
  if not ok then return nil, err end
  if screen then
    local gd = current_screen()
    ok, err = ws_send(session.conn, 2, screen_header(gd, fc), gd)
    if not ok then return nil, err end
  end
  return true
end

local function check_ranges(ranges)
  if type(ranges) ~= "table" then return nil, "ram must be a list of [start, length]" end
  local out = {}
  for i, r in ipairs(ranges) do
    local a, n = type(r) == "table" and r[1], type(r) == "table" and r[2]
    if type(a) ~= "number" or type(n) ~= "number" or a < 0 or n < 0 or a + n > 0x10000 then
      return nil, "bad ram range #" .. i .. ": " .. json_encode(r)
    end
    out[i] = { a, n }
  end
  return out
end

local function apply_welcome(msg)
  if type(msg) ~= "table" or msg.type ~= "welcome" then
    return nil, "expected a welcome, got " .. json_encode(msg and msg.type)
  end
  if msg.protocol ~= PROTOCOL then return nil, "bridge speaks protocol " .. tostring(msg.protocol) .. ", this script " .. PROTOCOL end
  if msg.ram ~= nil then
    local r, e = check_ranges(msg.ram)
    if not r then return nil, e end
    session.ram = r
  end
  if msg.screen ~= nil then session.screen = msg.screen == true end
  session.binary = msg.binaryState == true
  if session.binary and type(msg.screenFile) == "string" then open_screen_file(msg.screenFile) else close_screen_file() end
  return true
end

local function close_code_fatal(code, reason)
  local text = "bridge closed the link with " .. tostring(code) .. " " .. (reason or "")
  if code == 4001 then fatal(EXIT.bad_token, "the bridge refused the session token (close 4001): check LOCKSTEP_TOKEN") end
  if code == 4005 then fatal(EXIT.protocol, "protocol version mismatch (close 4005): " .. (reason or "")) end
  if code == 4009 then fatal(EXIT.replaced, "another emulator replaced this one (close 4009)") end
  if code == 4003 or code == 4007 or code == 1002 or code == 1009 then fatal(EXIT.protocol, text) end
  return text
end

-- One attempt: TCP + WebSocket handshake + hello + welcome. Returns true, or nil and why (fatal refusals raise).
local function try_connect()
  local conn, err = ws_connect(settings.host, settings.port, "/emulator", settings.hello)
  if not conn then return nil, err end
  local hello = { type = "hello", role = "emulator", protocol = PROTOCOL, token = settings.token, emulator = "fceux", rom = rom_info() }
  local ok, e = ws_send(conn, 1, json_encode(hello))
  if not ok then
    ws_close(conn, 1000)
    return nil, "hello: " .. tostring(e)
  end
  local deadline = socket.gettime() + settings.hello
  while true do
    local left = deadline - socket.gettime()
    if left <= 0 then
      ws_close(conn, 1000)
      return nil, "no welcome within " .. settings.hello * 1000 .. " ms"
    end
    local op, payload, code, reason = ws_receive(conn, left)
    if not op then
      if payload == "closed" then
        return nil, close_code_fatal(code, reason)
      end
      if payload ~= "timeout" then return nil, "waiting for welcome: " .. tostring(payload) end
    elseif op == 1 then
      local okj, msg = pcall(json_decode, payload)
      if not okj then
        ws_close(conn, 1002, "bad JSON")
        fatal(EXIT.protocol, "malformed welcome: " .. tostring(msg))
      end
      if type(msg) == "table" and msg.type == "error" then
        log("warn", "bridge error before welcome: " .. tostring(msg.code) .. " " .. tostring(msg.message))
      else
        local good, why = apply_welcome(msg)
        if not good then
          ws_close(conn, 1002, "bad welcome")
          fatal(EXIT.protocol, why)
        end
        session.conn = conn
        session.last_heard = socket.gettime()
        return true
      end
    end
  end
end

-- Connects with backoff; on success sends the current state (the bridge expects it after every hello).
local function connect(first)
  local delay = settings.backoff
  local why
  for attempt = 0, settings.tries do
    if attempt > 0 then
      socket.sleep(delay)
      delay = delay * 2
    end
    local ok, err = try_connect()
    if ok then
      if not first then log("info", "reconnected to the bridge") end
      local sent, e = send_state(session.screen)
      if sent then return true end
      why = "sending state: " .. tostring(e)
      ws_close(session.conn, 1000)
      session.conn = nil
    else
      why = err
    end
    log("warn", "bridge connection attempt " .. (attempt + 1) .. " failed: " .. tostring(why))
  end
  fatal(EXIT.bridge_gone, "bridge gone: " .. (settings.tries + 1) .. " connection attempts to " .. settings.host .. ":" ..
    settings.port .. " failed (last: " .. tostring(why) .. ")")
end

local function reconnect(why)
  log("warn", "lost the bridge (" .. tostring(why) .. "), reconnecting")
  if session.conn then ws_close(session.conn, 1001, "reconnecting") end
  session.conn = nil
  connect(false)
end

local function send_or_reconnect(text)
  local ok, err = send_json(text)
  if not ok then reconnect(err) end
end

local function state_or_reconnect(screen, stepped)
  local ok, err = send_state(screen, stepped)
  if not ok then reconnect(err) end
end

-- The state after a frame ran for an action.
local function stepped_state(screen) state_or_reconnect(screen, true) end

local function send_error(code, message)
  send_or_reconnect(json_encode({ type = "error", code = code, message = message }))
end

local function is_uint(v, max) return type(v) == "number" and v >= 0 and v == floor(v) and (max == nil or v <= max) end

-- The bridge's actions as JSON.stringify writes them: matched without the general decoder, which costs far more than
-- the rest of a frame's Lua work. Anything else (other key order, spaces, bad values) takes the general path.
local ACTION_TEXT = '^{"type":"action","frame":(%d+),"buttons":%[(%d+),(%d+)%],"screen":(%a+)}$'

-- p1, p2, screen when `text` is a well-formed action for the held frame; nil otherwise.
local function quick_action(text)
  local f, a, b, scr = text:match(ACTION_TEXT)
  if not f or tonumber(f) ~= emu.framecount() then return nil end
  local p1, p2 = tonumber(a), tonumber(b)
  if p1 > 255 or p2 > 255 then return nil end
  if scr == "true" then return p1, p2, true end
  if scr == "false" then return p1, p2, false end
  return nil
end

-- Handles one message while waiting for the action of the current frame. Returns buttons p1, p2, screen when the
-- action for this frame arrived.
local function handle(msg)
  local t = msg.type
  if t == "action" then
    local fc = emu.framecount()
    local b = msg.buttons
    if msg.frame ~= fc then
      send_error("wrong_frame", "action for frame " .. tostring(msg.frame) .. " but FCEUX is at frame " .. fc)
    elseif type(b) ~= "table" or not is_uint(b[1], 255) or not is_uint(b[2], 255) then
      send_error("bad_action", "buttons must be [p1, p2] masks 0..255, got " .. json_encode(b))
    else
      local screen = session.screen
      if msg.screen ~= nil then screen = msg.screen == true end
      return b[1], b[2], screen
    end
  elseif t == "heartbeat" then
    send_or_reconnect(string.format('{"type":"heartbeat_ack","seq":%s,"timestamp":%.3f}', json_encode(msg.seq or 0), now_ms()))
  elseif t == "ping" then
    send_or_reconnect(string.format('{"type":"pong","id":%s,"t0":%s,"t1":%.3f}', json_encode(msg.id or 0), json_encode(msg.t0 or 0), now_ms()))
  elseif t == "heartbeat_ack" or t == "pong" then
    -- liveness already noted
  elseif t == "resync_request" then
    state_or_reconnect(session.screen)
  elseif t == "savestate" then
    local op, slot = msg.op, msg.slot
    if not is_uint(slot) then
      send_error("bad_savestate", "savestate slot must be a non-negative integer, got " .. json_encode(slot))
    elseif op == "save" then
      local st = session.slots[slot] and session.slots[slot].state or savestate.create()
      savestate.save(st)
      session.slots[slot] = { state = st, screen = current_screen() }
      send_or_reconnect(json_encode({ type = "savestate_ack", op = op, slot = slot, frame = emu.framecount() }))
    elseif op == "load" then
      local saved = session.slots[slot]
      if not saved then
        send_error("no_savestate", "no savestate in slot " .. slot)
      else
        savestate.load(saved.state)
        session.screen_now = saved.screen
        send_or_reconnect(json_encode({ type = "savestate_ack", op = op, slot = slot, frame = emu.framecount() }))
        state_or_reconnect(session.screen)
      end
    elseif op == "drop" then
      session.slots[slot] = nil
      send_or_reconnect(json_encode({ type = "savestate_ack", op = op, slot = slot, frame = emu.framecount() }))
    else
      send_error("bad_savestate", "savestate op must be save, load or drop, got " .. json_encode(op))
    end
  elseif t == "write_ram" then
    local addr = msg.address
    if not is_uint(addr, 0xFFFF) or type(msg.data) ~= "string" then
      send_error("bad_write_ram", "write_ram needs address 0..65535 and base64 data")
    else
      local data = base64_decode(msg.data)
      if addr + #data > 0x10000 then
        send_error("bad_write_ram", "write_ram of " .. #data .. " bytes at " .. addr .. " runs past $FFFF")
      else
        for i = 1, #data do memory.writebyte(addr + i - 1, byte(data, i)) end
        send_or_reconnect(json_encode({ type = "write_ram_ack", address = addr, length = #data }))
      end
    end
  elseif t == "reset" then
    emu.poweron()
    session.screen_now = nil
    state_or_reconnect(session.screen)
  elseif t == "configure" then
    if msg.screen ~= nil then session.screen = msg.screen == true end
    if msg.ram ~= nil then
      local r, e = check_ranges(msg.ram)
      if r then session.ram = r else send_error("bad_configure", e) end
    end
  elseif t == "quit" then
    if session.conn then ws_close(session.conn, 1000, "quit") end
    session.conn = nil
    fatal(is_uint(msg.code, 255) and msg.code or EXIT.quit, "bridge said quit" .. (msg.reason and (": " .. tostring(msg.reason)) or ""))
  elseif t == "error" then
    log("warn", "bridge error " .. tostring(msg.code) .. ": " .. tostring(msg.message))
  elseif t == "welcome" then
    local ok, e = apply_welcome(msg)
    if not ok then send_error("bad_welcome", e) end
  else
    send_error("unknown_type", "unknown message type " .. json_encode(t))
  end
end

-- Waits (answering everything else) until the action for the current frame arrives. Silence is measured from the
-- last message heard: a heartbeat goes out after `heartbeat` idle seconds, a reconnect after `dead` seconds.
local function wait_action()
  local last_beat = 0
  while true do
    local next_beat = math.max(session.last_heard, last_beat) + settings.heartbeat
    local dead_at = session.last_heard + settings.dead
    local wait = math.min(next_beat, dead_at) - socket.gettime()
    if wait < 0 then wait = 0 end
    local op, payload, code, reason = ws_receive(session.conn, wait)
    if op then
      session.last_heard = socket.gettime()
      if op == 1 then
        local p1, p2, screen = quick_action(payload)
        if p1 then return p1, p2, screen end
        local ok, msg = pcall(json_decode, payload)
        if not ok or type(msg) ~= "table" or type(msg.type) ~= "string" then
          send_error("malformed", "could not read message: " .. tostring(ok and "no type" or msg))
        else
          local p1, p2, screen = handle(msg)
          if p1 then return p1, p2, screen end
        end
      end
    elseif payload == "timeout" then
      local now = socket.gettime()
      if now >= dead_at then
        reconnect("no answer for " .. floor((now - session.last_heard) * 1000) .. " ms")
        last_beat = 0
      elseif now >= next_beat then
        session.heartbeat_seq = session.heartbeat_seq + 1
        last_beat = now
        send_or_reconnect(string.format('{"type":"heartbeat","seq":%d,"timestamp":%.3f}', session.heartbeat_seq, now * 1000))
      end
    elseif payload == "closed" then
      local text = close_code_fatal(code, reason)
      session.conn = nil
      reconnect(text)
    else
      reconnect(payload)
    end
  end
end

-- Runs f(arg) protected; a fatal error or a script bug ends the run through stop(). Never wraps frameadvance.
local function guarded(f, arg)
  local ok, a, b, c = pcall(f, arg)
  if ok then return a, b, c end
  if type(a) == "table" and a.lockstep_fatal then
    if session.conn then ws_close(session.conn, a.code == 0 and 1000 or 1011, "") end
    return stop(a.code, a.message)
  end
  if session.conn then ws_close(session.conn, 1011, "internal error") end
  return stop(EXIT.internal, "internal error: " .. tostring(a))
end

---------------------------------------------------------------------------------------------------- main loop

emu.speedmode("maximum")
-- The first frameadvance after --loadlua does not emulate; take it now so frame ids mean what they say.
if launched then emu.frameadvance() end

if guarded(connect, true) == "stopped" then return end

while true do
  local p1, p2, screen = guarded(wait_action)
  if p1 == "stopped" then break end
  local before = emu.framecount()
  -- joypad.set lasts one frame; repeat it if frameadvance returned without emulating (the first one after a script
  -- is loaded by hand does not emulate).
  for _ = 1, 4 do
    joypad.set(1, PAD[p1])
    joypad.set(2, PAD[p2])
    emu.frameadvance()
    session.screen_now = nil
    if emu.framecount() ~= before then break end
  end
  -- Time spent emulating (or paused by a user in attach mode) is not silence from the bridge.
  session.last_heard = socket.gettime()
  if guarded(stepped_state, screen) == "stopped" then break end
end
