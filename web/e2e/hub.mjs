// Starts the hub binary for the end-to-end tests: a free port, a fresh data directory
// (the hub then uses an embedded SQLite file there), and waits until it is ready.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const webDir = fileURLToPath(new URL('..', import.meta.url))
const hubBin = resolve(webDir, process.env.HUB_BIN ?? '../target/debug/whatpro-hub')
const READY_TIMEOUT_MS = 30_000

/** The `serve --demo` simulator's Chatwoot API tokens: an administrator and an agent of "Demo Co". */
export const DEMO_ADMIN_TOKEN = 'demoAdminToken1234567890'
export const DEMO_AGENT_TOKEN = 'demoAgentToken1234567890'
/** The simulator's Chatwoot dashboard login of the demo administrator. */
export const DEMO_ADMIN_EMAIL = 'admin@demo.test'
export const DEMO_ADMIN_PASSWORD = 'Demo-admin-1!'
/** The simulator's Chatwoot dashboard login of the demo agent. */
export const DEMO_AGENT_EMAIL = 'agent@demo.test'
export const DEMO_AGENT_PASSWORD = 'Demo-agent-1!'
const OUTPUT_LIMIT = 64 * 1024

async function freePort() {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  await once(server, 'close')
  return port
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms))

async function isReady(url) {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1_000) })
    return response.status === 200
  } catch {
    return false
  }
}

/**
 * Starts `HUB_BIN serve` (with `demo: true`, `serve --demo`: a built-in Chatwoot simulator
 * whose API tokens are DEMO_ADMIN_TOKEN and DEMO_AGENT_TOKEN); resolves to
 * `{ url, publicUrl, chatwootUrl, evolutionUrl, output, stop }` once GET /health/ready
 * answers 200. `chatwootUrl` is the demo simulator's origin (null without `demo`);
 * `evolutionUrl` the demo's Evolution API simulator's, when the hub logged one (null
 * otherwise); `output()` what the hub has printed so far (its last 64 KiB).
 */
export async function startHub({ demo = false } = {}) {
  const port = await freePort()
  const dataDir = await mkdtemp(join(tmpdir(), 'whatpro-hub-e2e-'))
  const args = demo ? ['serve', '--demo'] : ['serve']
  const child = spawn(hubBin, args, {
    env: {
      ...process.env,
      APP_HOST: '127.0.0.1',
      APP_PORT: String(port),
      APP_ENV: 'development',
      DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // The tail of what the hub printed, for the error message if it never gets ready.
  let output = ''
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8')
    stream.on('data', (chunk) => {
      output = (output + chunk).slice(-OUTPUT_LIMIT)
    })
  }
  let exited = false
  const exit = new Promise((done) => {
    child.on('error', (error) => {
      output += `\nspawn ${hubBin}: ${error.message}`
      exited = true
      done()
    })
    child.on('exit', () => {
      exited = true
      done()
    })
  })

  async function stop() {
    if (!exited) {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exit
      clearTimeout(killer)
    }
    await rm(dataDir, { recursive: true, force: true })
  }

  const url = `http://127.0.0.1:${port}`
  // PUBLIC_URL's default: the origin pages and the dashboard script are meant to be loaded
  // from. It differs from `url` (localhost, not 127.0.0.1), so a page of the demo's Chatwoot
  // (127.0.0.1 on another port) and the hub are of different sites, as in production.
  const publicUrl = `http://localhost:${port}`
  const deadline = Date.now() + READY_TIMEOUT_MS // wall-clock: a real timeout
  while (!(await isReady(url))) {
    if (exited || Date.now() > deadline) { // wall-clock: a real timeout
      const reason = exited ? 'exited before it was ready' : `not ready after ${READY_TIMEOUT_MS} ms`
      await stop()
      throw new Error(`hub (${hubBin} ${args.join(' ')}) ${reason}. Its stderr and stdout:\n${output}`)
    }
    await sleep(200)
  }
  let chatwootUrl = null
  if (demo) {
    chatwootUrl = chatwootOriginIn(output)
    if (!chatwootUrl) {
      await stop()
      throw new Error(`serve --demo did not log its Chatwoot's address. Its output:\n${output}`)
    }
  }
  const evolutionUrl = demo ? evolutionOriginIn(output) : null
  return { url, publicUrl, chatwootUrl, evolutionUrl, output: () => output, stop }
}

/**
 * The origin of the demo's Chatwoot simulator, from the line `serve --demo` logs at start
 * (`chatwoot_dashboard=".../app/login"`, or `chatwoot_url`; pretty or JSON logs).
 */
function chatwootOriginIn(output) {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '')
  const match = /chatwoot_(?:dashboard|url)\W{1,4}(http:\/\/[\w.:-]+)/.exec(plain)
  return match ? match[1] : null
}

/**
 * The origin of the demo's Evolution API simulator, from the line `serve --demo` logs at
 * start (`evolution=<url>`, or `evolution_url`; pretty or JSON logs); null if none.
 */
export function evolutionOriginIn(output) {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '')
  const match = /\bevolution(?:_url)?\W{1,4}(https?:\/\/[\w.:-]+)/.exec(plain)
  return match ? match[1] : null
}
