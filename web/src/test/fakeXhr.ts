/**
 * An XMLHttpRequest for unit tests that sends through the global `fetch` (the fake hub the
 * test stubbed), reporting upload progress halfway and at the end, as a browser would for
 * a multipart upload. `FakeXhr.hold` keeps the next uploads waiting until `release()`, so a
 * test can look at a file while it is still going up.
 */
type Listener = ((event: ProgressEvent) => void) | null

export class FakeXhr {
  static hold = false
  static waiting: Array<() => void> = []

  static reset() {
    FakeXhr.hold = false
    FakeXhr.waiting = []
  }

  /** Lets every held upload finish. */
  static release() {
    const waiting = FakeXhr.waiting
    FakeXhr.waiting = []
    for (const go of waiting) go()
  }

  upload: { onprogress: Listener } = { onprogress: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null
  status = 0
  responseText = ''
  private method = 'GET'
  private url = ''
  private headers: Record<string, string> = {}
  private responseHeaders = ''
  private aborted = false

  open(method: string, url: string) {
    this.method = method
    this.url = url
  }

  setRequestHeader(name: string, value: string) {
    this.headers[name] = value
  }

  getAllResponseHeaders() {
    return this.responseHeaders
  }

  abort() {
    if (this.aborted) return
    this.aborted = true
    this.onabort?.()
  }

  send(body: FormData) {
    const file = body.get('file')
    const total = file instanceof Blob ? file.size : 0
    void (async () => {
      this.upload.onprogress?.({ lengthComputable: true, loaded: Math.floor(total / 2), total } as ProgressEvent)
      if (FakeXhr.hold) await new Promise<void>((go) => FakeXhr.waiting.push(go))
      if (this.aborted) return
      let response: Response
      try {
        response = await fetch(this.url, { method: this.method, headers: this.headers, body })
      } catch {
        this.onerror?.()
        return
      }
      if (this.aborted) return
      this.upload.onprogress?.({ lengthComputable: true, loaded: total, total } as ProgressEvent)
      this.status = response.status
      this.responseText = await response.text()
      this.responseHeaders = [...response.headers].map(([k, v]) => `${k}: ${v}`).join('\r\n')
      this.onload?.()
    })()
  }
}
