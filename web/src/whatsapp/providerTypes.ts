/**
 * What differs between the provider types, as data the dialogs read (no `v-if` per type):
 * the server's address, the server's credentials on register, and the credentials of a
 * number registered from the provider's panel. Which fields a registration takes comes from
 * the hub (`capabilities.instance_credentials`); the words for them come from here.
 */
import type { Capabilities, ProviderType } from '../api/whatsapp'

export interface CredentialField {
  /** The key in `credentials`. */
  key: string
  label: string
  hint: string
  /** Typed into a password field (a token or secret), not an id. */
  secret: boolean
  placeholder?: string
  /** Only digits (an id in Meta). */
  digits?: boolean
}

export interface ProviderTypeInfo {
  value: ProviderType
  label: string
  /** What the base URL looks like. */
  placeholder: string
  /** Said under the base URL field. */
  baseUrlHint: string
  /** The one address every account uses (hosted APIs), filled in for the admin. */
  fixedBaseUrl?: string
  /** The server's own credentials, asked on register. */
  credentials: CredentialField[]
  /** Where a registered number's credentials are found (types that do not create numbers). */
  registerHint?: string
}

const secret = (key: string, label: string, hint: string): CredentialField => ({ key, label, hint, secret: true })

export const PROVIDER_TYPES: ProviderTypeInfo[] = [
  {
    value: 'evolution',
    label: 'Evolution API',
    placeholder: 'https://evolution.example.com',
    baseUrlHint: "Your Evolution API server's address, without /manager or a path after it.",
    credentials: [
      secret('api_key', 'API key', "The server's global key (AUTHENTICATION_API_KEY), not an instance's token."),
    ],
  },
  {
    value: 'waha',
    label: 'WAHA',
    placeholder: 'https://waha.example.com',
    baseUrlHint: "Your WAHA server's address, without /api.",
    credentials: [secret('api_key', 'API key', "The server's API key (WAHA_API_KEY), sent as X-Api-Key.")],
  },
  {
    value: 'uazapi',
    label: 'UazAPI',
    placeholder: 'https://example.uazapi.com',
    baseUrlHint: "Your UazAPI server's address, e.g. https://yourname.uazapi.com.",
    credentials: [
      secret('admin_token', 'Admin token', "The server's admin token (admintoken), which creates and lists instances."),
    ],
  },
  {
    value: 'zapi',
    label: 'Z-API',
    placeholder: 'https://api.z-api.io',
    baseUrlHint: "Z-API's address; leave it as it is unless Z-API gave you another.",
    fixedBaseUrl: 'https://api.z-api.io',
    credentials: [
      secret(
        'client_token',
        'Client token',
        "The account's security token (Client-Token), from Security in the Z-API panel.",
      ),
    ],
    registerHint: 'Make the instance in the Z-API panel first; its ID and token are on its page there.',
  },
  {
    value: 'cloud_api',
    label: 'WhatsApp Cloud API',
    placeholder: 'https://graph.facebook.com/v22.0',
    baseUrlHint: "Meta's Graph API with its version; leave it as it is unless you need another version.",
    fixedBaseUrl: 'https://graph.facebook.com/v22.0',
    credentials: [
      secret('access_token', 'Access token', "A system user's permanent access token, from Meta's Business settings."),
      secret('app_secret', 'App secret', "The Meta app's secret (App settings → Basic), to check the webhooks Meta signs."),
    ],
    registerHint: "Add the number in Meta's WhatsApp Manager first; its phone number ID is under API Setup.",
  },
]

/** The credentials of numbers made in a provider's panel, by key. */
const INSTANCE_CREDENTIALS: Record<string, CredentialField> = {
  instance_id: {
    key: 'instance_id',
    label: 'Instance ID',
    hint: "The instance's ID, from its page in the Z-API panel.",
    secret: false,
  },
  instance_token: secret('instance_token', 'Instance token', "The instance's token, from the same page."),
  phone_number_id: {
    key: 'phone_number_id',
    label: 'Phone number ID',
    hint: "The number's ID in Meta (digits), not the phone number itself.",
    secret: false,
    digits: true,
    placeholder: '106540352242922',
  },
}

export function providerTypeInfo(type: string | null | undefined): ProviderTypeInfo | null {
  return PROVIDER_TYPES.find((t) => t.value === type) ?? null
}

/** The server credential fields of a type (an unknown type has none this UI can fill in). */
export function credentialFields(type: string | null | undefined): CredentialField[] {
  return providerTypeInfo(type)?.credentials ?? []
}

/** The fields a registration takes, in the hub's order; a key this UI does not know, as a secret. */
export function instanceCredentialFields(capabilities: Pick<Capabilities, 'instance_credentials'> | null | undefined): CredentialField[] {
  return (capabilities?.instance_credentials ?? []).map((key) => {
    const known = INSTANCE_CREDENTIALS[key]
    if (known) return known
    const label = key.replace(/_/g, ' ')
    return secret(key, label.charAt(0).toUpperCase() + label.slice(1), '')
  })
}

/** Whether numbers of this server are registered from the provider's panel rather than created. */
export function registersNumbers(capabilities: Pick<Capabilities, 'instance_credentials'> | null | undefined): boolean {
  return (capabilities?.instance_credentials.length ?? 0) > 0
}

/** A type's fixed address, or '' for servers the account runs. */
export function defaultBaseUrl(type: string | null | undefined): string {
  return providerTypeInfo(type)?.fixedBaseUrl ?? ''
}

/** Nothing offered: a number whose server is not (yet) listed. */
export const NO_CAPABILITIES: Capabilities = {
  creates_instances: false,
  instance_credentials: [],
  qr: false,
  qr_seconds: 0,
  pairing_code: false,
  pairing_seconds: 0,
  restart: false,
  logout: false,
  settings: [],
  send_text: false,
  chatwoot_inbox: false,
}
