-- Headless Neovim (>= 0.7.2) end-to-end check of the Hiccup language server.
--
--   HICCUP_LSP_CMD='/path/python -m hiccup serve' nvim --headless -i NONE -u hiccup_test.lua claude.log
--
-- Prints one JSON object to stdout; exit 0 when every check passed.
local cmd = vim.split(os.getenv('HICCUP_LSP_CMD') or 'hiccup serve', ' ', { trimempty = true })
local timeout = tonumber(os.getenv('HICCUP_TIMEOUT_MS') or '15000')

local result = { ok = false, checks = {} }
local function out(code)
  io.stdout:write(vim.fn.json_encode(result) .. '\n')
  io.stdout:flush()
  for _, c in pairs(vim.lsp.get_active_clients()) do c.stop(true) end
  vim.cmd(code == 0 and 'qall!' or ('cquit ' .. code))
end
local function check(name, cond, detail)
  result.checks[name] = { pass = cond and true or false, detail = detail }
  return cond
end
local function request(bufnr, method, params)
  local responses = vim.lsp.buf_request_sync(bufnr, method, params, timeout) or {}
  for _, r in pairs(responses) do
    if r.error then return nil, r.error end
    return r.result
  end
end

local function run()
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = 'hiccup',
    cmd = cmd,
    root_dir = vim.fn.getcwd(),
    settings = { hiccup = { reminderMinutes = 2, statusPage = { enabled = false } } },  -- tests never reach the internet
    -- Neovim 0.7 sends settings only when asked to (nvim-lspconfig does the same)
    on_init = function(client)
      client.notify('workspace/didChangeConfiguration', { settings = client.config.settings })
    end,
    on_exit = function(code, signal) result.server_exit = { code = code, signal = signal } end,
  })
  if not check('start_client', client_id ~= nil, client_id) then return out(1) end
  vim.lsp.buf_attach_client(bufnr, client_id)

  -- 1. diagnostics on open, one per occurrence, on the error text
  local got = vim.wait(timeout, function() return #vim.diagnostic.get(bufnr) >= 2 end, 50)
  local diags = vim.diagnostic.get(bufnr)
  table.sort(diags, function(a, b) return a.lnum < b.lnum end)
  result.diagnostics = {}
  for _, d in ipairs(diags) do
    table.insert(result.diagnostics, { lnum = d.lnum, col = d.col, end_col = d.end_col, severity = d.severity,
      message = d.message, source = d.source, code = d.code })
  end
  if not check('diagnostics', got and diags[1].source == 'hiccup', #diags) then return out(1) end
  local d = diags[1]

  -- 2. hover on the error text
  vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
  local hover = request(bufnr, 'textDocument/hover', vim.lsp.util.make_position_params())
  result.hover = hover and hover.contents and hover.contents.value
  check('hover', result.hover and result.hover:find('Next step', 1, true), result.hover)

  -- 3. code actions for the diagnostic's range, then run one of them on the server
  -- what Neovim 0.7's own vim.lsp.buf.code_action() sends: the cursor range and the line's diagnostics
  local params = vim.lsp.util.make_range_params()
  params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(bufnr, d.lnum) }
  local actions, action_err = request(bufnr, 'textDocument/codeAction', params)
  result.code_action_error = action_err
  actions = actions or {}
  result.code_actions = {}
  local report
  for _, a in ipairs(actions) do
    table.insert(result.code_actions, a.title)
    if a.title == 'Copy error report' then report = a end
  end
  if check('code_actions', report ~= nil, result.code_actions) then
    local res, err = request(bufnr, 'workspace/executeCommand', report.command)
    result.report = res and res.text
    check('execute_command', res and res.text and res.text:find('internal_server_error', 1, true), err)
  end

  -- 4. the log grows: an appended error is published too (incremental sync)
  local before = #vim.diagnostic.get(bufnr)
  vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { 'API Error: 500 {"type":"error","error":{"type":"api_error"}}' })
  local grew = vim.wait(timeout, function() return #vim.diagnostic.get(bufnr) > before end, 50)
  check('diagnostics_after_append', grew, #vim.diagnostic.get(bufnr))

  result.ok = true
  for _, c in pairs(result.checks) do if not c.pass then result.ok = false end end
  out(result.ok and 0 or 1)
end

vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = function()
    local ok, err = pcall(run)
    if not ok then result.error = tostring(err); out(2) end
  end,
})
vim.defer_fn(function() result.error = 'global timeout'; out(3) end, 4 * timeout)
