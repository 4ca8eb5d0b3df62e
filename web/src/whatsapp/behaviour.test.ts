import { describe, expect, it } from 'vitest'
import { DEFAULT_BEHAVIOUR, behaviourBody, switchesFor, takesCallMessage } from './behaviour'
import { instanceCredentialFields, registersNumbers } from './providerTypes'

const ALL = ['reject_calls', 'call_message', 'ignore_groups', 'always_online', 'read_messages', 'read_status']

describe('behaviour settings', () => {
  it('shows only the switches the type applies', () => {
    expect(switchesFor(ALL).map((s) => s.key)).toEqual(['reject_calls', 'ignore_groups', 'always_online', 'read_messages', 'read_status'])
    expect(switchesFor(['ignore_groups']).map((s) => s.key)).toEqual(['ignore_groups'])
    expect(switchesFor([])).toEqual([])
  })

  it('sends the whole set: what the type lacks off, the call message only with calls rejected', () => {
    const form = { ...DEFAULT_BEHAVIOUR, reject_calls: true, call_message: ' Call later ', ignore_groups: true, read_status: true }
    expect(behaviourBody(form, ALL)).toEqual({
      reject_calls: true,
      call_message: 'Call later',
      ignore_groups: true,
      always_online: false,
      read_messages: false,
      read_status: true,
    })
    expect(behaviourBody(form, ['ignore_groups'])).toEqual({
      reject_calls: false,
      ignore_groups: true,
      always_online: false,
      read_messages: false,
      read_status: false,
    })
    expect(behaviourBody({ ...form, reject_calls: false }, ALL)).not.toHaveProperty('call_message')
    expect(behaviourBody({ ...form, call_message: '  ' }, ALL)).not.toHaveProperty('call_message')
    expect(takesCallMessage(['reject_calls'], true)).toBe(false)
  })
})

describe('registered numbers', () => {
  it("asks for the credentials the hub lists, in words, ids as text and tokens as secrets", () => {
    expect(instanceCredentialFields({ instance_credentials: ['instance_id', 'instance_token'] }).map((f) => [f.key, f.label, f.secret])).toEqual([
      ['instance_id', 'Instance ID', false],
      ['instance_token', 'Instance token', true],
    ])
    expect(instanceCredentialFields({ instance_credentials: ['phone_number_id'] })[0]).toMatchObject({ label: 'Phone number ID', digits: true })
    expect(instanceCredentialFields({ instance_credentials: ['waba_key'] })[0]).toMatchObject({ label: 'Waba key', secret: true })
    expect(instanceCredentialFields(null)).toEqual([])
    expect(registersNumbers({ instance_credentials: ['phone_number_id'] })).toBe(true)
    expect(registersNumbers({ instance_credentials: [] })).toBe(false)
  })
})
