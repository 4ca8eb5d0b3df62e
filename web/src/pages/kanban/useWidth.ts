/**
 * The width of an element in CSS pixels, kept up to date with a ResizeObserver, so an SVG
 * chart can be drawn at its real size (text stays 11–12px instead of shrinking with a
 * viewBox). `fallback` until measured, and where ResizeObserver is missing.
 */
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'

export function useWidth(element: Ref<HTMLElement | null>, fallback = 640) {
  const width = ref(fallback)
  let observer: ResizeObserver | undefined

  function measure(value: number) {
    // Whole pixels, and a floor so the layout maths never goes negative.
    if (value > 0) width.value = Math.max(240, Math.round(value))
  }

  onMounted(() => {
    const el = element.value
    if (!el) return
    measure(el.clientWidth)
    if (typeof ResizeObserver === 'undefined') return
    observer = new ResizeObserver((entries) => measure(entries[0]?.contentRect.width ?? 0))
    observer.observe(el)
  })
  onBeforeUnmount(() => observer?.disconnect())
  return width
}
