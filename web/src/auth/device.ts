/** A short label for a browser, e.g. "Chrome on Linux", from its user agent. */
export function describeDevice(userAgent: string | null | undefined): string | null {
  if (!userAgent) return null
  const browser = browserOf(userAgent)
  const os = osOf(userAgent)
  if (browser && os) return `${browser} on ${os}`
  return browser ?? os ?? null
}

function browserOf(ua: string): string | null {
  if (/\bEdg(e|A|iOS)?\//.test(ua)) return 'Edge'
  if (/\bOPR\/|\bOpera\b/.test(ua)) return 'Opera'
  if (/\bFirefox\/|\bFxiOS\//.test(ua)) return 'Firefox'
  if (/\b(Headless)?Chrom(e|ium)\/|\bCriOS\//.test(ua)) return 'Chrome'
  if (/\bSafari\//.test(ua) && /\bVersion\//.test(ua)) return 'Safari'
  if (/^curl\//.test(ua)) return 'curl'
  return null
}

function osOf(ua: string): string | null {
  if (/\bWindows\b/.test(ua)) return 'Windows'
  if (/\bAndroid\b/.test(ua)) return 'Android'
  if (/\b(iPhone|iPad|iPod)\b/.test(ua)) return 'iOS'
  if (/\bCrOS\b/.test(ua)) return 'ChromeOS'
  if (/\bMac OS X\b|\bMacintosh\b/.test(ua)) return 'macOS'
  if (/\bLinux\b/.test(ua)) return 'Linux'
  return null
}
