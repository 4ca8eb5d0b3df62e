import { describe, expect, it } from 'vitest'
import { cpfCnpjError, cpfCnpjKind, formatCpfCnpj, isValidCnpj, isValidCpf, normalizeCpfCnpj } from './cpfCnpj'

describe('CPF', () => {
  it.each(['529.982.247-25', '52998224725', '111.444.777-35', ' 390.533.447-05 '])('accepts %s', (cpf) => {
    expect(isValidCpf(cpf)).toBe(true)
  })

  it.each([
    ['a wrong first check digit', '529.982.247-15'],
    ['a wrong second check digit', '529.982.247-26'],
    ['one repeated digit', '111.111.111-11'],
    ['zeros', '000.000.000-00'],
    ['too few digits', '5299822472'],
    ['letters', '52998224A25'],
  ])('refuses %s', (_, cpf) => {
    expect(isValidCpf(cpf)).toBe(false)
  })

  it('a check digit of 10 or 11 becomes 0', () => {
    // 123.456.789-09: the second digit's remainder is below 2.
    expect(isValidCpf('123.456.789-09')).toBe(true)
  })
})

describe('CNPJ', () => {
  it.each(['11.222.333/0001-81', '11222333000181', '45.997.418/0001-53'])('accepts %s', (cnpj) => {
    expect(isValidCnpj(cnpj)).toBe(true)
  })

  it('accepts the alphanumeric CNPJ (Receita Federal, from July 2026)', () => {
    expect(isValidCnpj('12.ABC.345/01DE-35')).toBe(true)
    expect(isValidCnpj('12abc34501de35')).toBe(true)
    expect(isValidCnpj('12.ABC.345/01DE-36')).toBe(false)
    // The check digits stay numeric.
    expect(isValidCnpj('12.ABC.345/01DE-3A')).toBe(false)
  })

  it.each([
    ['a wrong check digit', '11.222.333/0001-82'],
    ['one repeated digit', '11.111.111/1111-11'],
    ['too few characters', '11.222.333/0001-8'],
  ])('refuses %s', (_, cnpj) => {
    expect(isValidCnpj(cnpj)).toBe(false)
  })
})

describe('the field', () => {
  it('normalizes, tells the kind and formats', () => {
    expect(normalizeCpfCnpj(' 529.982.247-25 ')).toBe('52998224725')
    expect(cpfCnpjKind('529.982.247-25')).toBe('cpf')
    expect(cpfCnpjKind('11.222.333/0001-81')).toBe('cnpj')
    expect(cpfCnpjKind('123')).toBeNull()
    expect(formatCpfCnpj('52998224725')).toBe('529.982.247-25')
    expect(formatCpfCnpj('11222333000181')).toBe('11.222.333/0001-81')
    expect(formatCpfCnpj('12abc34501de35')).toBe('12.ABC.345/01DE-35')
    expect(formatCpfCnpj('1234')).toBe('1234')
  })

  it('says what is wrong', () => {
    expect(cpfCnpjError('')).toBe('Enter the CPF or CNPJ of who pays.')
    expect(cpfCnpjError('529.982.247-25')).toBeNull()
    expect(cpfCnpjError('11.222.333/0001-81')).toBeNull()
    expect(cpfCnpjError('529.982.247-26')).toBe('This CPF is not valid. Check its digits.')
    expect(cpfCnpjError('11.222.333/0001-82')).toBe('This CNPJ is not valid. Check its digits.')
    expect(cpfCnpjError('12345')).toBe('A CPF has 11 digits and a CNPJ 14 characters.')
  })
})
