/** An EventSource the test drives by hand: `FakeEventSource.opened` lists every one made. */
export class FakeEventSource {
  static opened: FakeEventSource[] = []
  readonly url: string
  closed = false
  private listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>()

  constructor(url: string) {
    this.url = url
    FakeEventSource.opened.push(this)
  }

  addEventListener(name: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener])
  }

  emit(name: string, data = '{}') {
    for (const listener of this.listeners.get(name) ?? []) listener({ data } as MessageEvent<string>)
  }

  close() {
    this.closed = true
  }
}
