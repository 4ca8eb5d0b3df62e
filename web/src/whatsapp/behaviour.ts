/**
 * A number's behaviour settings (calls, groups, presence, read receipts): their words, and
 * the whole set the hub takes on `PATCH …/instances/:id`. Only the settings the provider
 * type applies (`capabilities.settings`) are shown or turned on; the others go as off.
 */
import type { Behaviour, SettingName } from '../api/whatsapp'

export type Switch = Exclude<SettingName, 'call_message'>

export const SWITCHES: { key: Switch; label: string; hint: string }[] = [
  { key: 'reject_calls', label: 'Reject calls', hint: 'Voice and video calls to this number are refused.' },
  { key: 'ignore_groups', label: 'Ignore groups', hint: 'Messages in WhatsApp groups are left out.' },
  { key: 'always_online', label: 'Always online', hint: 'The number shows as online all the time.' },
  { key: 'read_messages', label: 'Mark messages read', hint: 'Incoming messages are marked read as they arrive.' },
  { key: 'read_status', label: 'View status updates', hint: "Contacts' status updates are marked seen." },
]

export const CALL_MESSAGE_MAX = 500

export const DEFAULT_BEHAVIOUR: Behaviour = {
  reject_calls: false,
  call_message: null,
  ignore_groups: false,
  always_online: false,
  read_messages: false,
  read_status: false,
}

/** The switches a type applies, in this UI's order. */
export function switchesFor(supported: readonly string[]) {
  return SWITCHES.filter((s) => supported.includes(s.key))
}

/** Whether the call message can be set: the type takes it and calls are rejected. */
export function takesCallMessage(supported: readonly string[], rejectCalls: boolean): boolean {
  return rejectCalls && supported.includes('call_message') && supported.includes('reject_calls')
}

/** The whole set to send: what the type lacks is off, the call message only with calls rejected. */
export function behaviourBody(form: Behaviour, supported: readonly string[]): Behaviour {
  const on = (key: Switch) => supported.includes(key) && form[key] === true
  const body: Behaviour = {
    reject_calls: on('reject_calls'),
    ignore_groups: on('ignore_groups'),
    always_online: on('always_online'),
    read_messages: on('read_messages'),
    read_status: on('read_status'),
  }
  const message = (form.call_message ?? '').trim()
  if (message && takesCallMessage(supported, body.reject_calls)) body.call_message = message
  return body
}
