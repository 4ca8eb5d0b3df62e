/**
 * CPF (people, 11 digits) and CNPJ (companies, 14 characters) as Asaas needs them for a
 * customer, checked the way the hub checks them before calling Asaas: punctuation is
 * ignored, every check digit must match (modulo 11), and a number of one repeated digit
 * ("111.111.111-11") is refused. CNPJs may be alphanumeric (Receita Federal, from July
 * 2026): the first 12 characters are 0-9 or A-Z, each worth its character code minus 48,
 * and the two check digits stay numeric.
 */

/** Keeps only digits and letters, upper case: "529.982.247-25" → "52998224725". */
export function normalizeCpfCnpj(value: string): string {
  return value.replace(/[^0-9a-z]/gi, '').toUpperCase()
}

/** The check digit of `values` with `weights` (CPF and CNPJ share the rule). */
function checkDigit(values: number[], weights: number[]): number {
  const sum = values.reduce((total, value, i) => total + value * weights[i]!, 0)
  const rest = sum % 11
  return rest < 2 ? 0 : 11 - rest
}

function repeated(value: string): boolean {
  return /^(.)\1*$/.test(value)
}

export function isValidCpf(value: string): boolean {
  const cpf = normalizeCpfCnpj(value)
  if (!/^\d{11}$/.test(cpf) || repeated(cpf)) return false
  const digits = [...cpf].map(Number)
  const first = checkDigit(digits.slice(0, 9), [10, 9, 8, 7, 6, 5, 4, 3, 2])
  const second = checkDigit(digits.slice(0, 10), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2])
  return digits[9] === first && digits[10] === second
}

const CNPJ_WEIGHTS = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]

export function isValidCnpj(value: string): boolean {
  const cnpj = normalizeCpfCnpj(value)
  if (!/^[0-9A-Z]{12}\d{2}$/.test(cnpj) || repeated(cnpj)) return false
  const values = [...cnpj].map((char) => char.charCodeAt(0) - 48)
  const first = checkDigit(values.slice(0, 12), CNPJ_WEIGHTS.slice(1))
  const second = checkDigit(values.slice(0, 13), CNPJ_WEIGHTS)
  return values[12] === first && values[13] === second
}

/** `cpf`, `cnpj`, or null when the value is neither (by its length). */
export function cpfCnpjKind(value: string): 'cpf' | 'cnpj' | null {
  const length = normalizeCpfCnpj(value).length
  if (length === 11) return 'cpf'
  if (length === 14) return 'cnpj'
  return null
}

/** What is wrong with the value, for the field; null when it is a valid CPF or CNPJ. */
export function cpfCnpjError(value: string): string | null {
  const normalized = normalizeCpfCnpj(value)
  if (!normalized) return 'Enter the CPF or CNPJ of who pays.'
  switch (cpfCnpjKind(normalized)) {
    case 'cpf':
      return isValidCpf(normalized) ? null : 'This CPF is not valid. Check its digits.'
    case 'cnpj':
      return isValidCnpj(normalized) ? null : 'This CNPJ is not valid. Check its digits.'
    default:
      return 'A CPF has 11 digits and a CNPJ 14 characters.'
  }
}

/** With its usual punctuation ("529.982.247-25", "11.222.333/0001-81"); as typed otherwise. */
export function formatCpfCnpj(value: string): string {
  const v = normalizeCpfCnpj(value)
  if (/^\d{11}$/.test(v)) return `${v.slice(0, 3)}.${v.slice(3, 6)}.${v.slice(6, 9)}-${v.slice(9)}`
  if (/^[0-9A-Z]{12}\d{2}$/.test(v)) {
    return `${v.slice(0, 2)}.${v.slice(2, 5)}.${v.slice(5, 8)}/${v.slice(8, 12)}-${v.slice(12)}`
  }
  return value
}
