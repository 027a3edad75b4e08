"""Obviously fake secrets of every kind the scrubber finds, and look-alikes it must leave.

Each example is (detector name, text holding the secret, what the text
becomes). They are built from pieces so no real-looking key sits whole in
the repository.
"""

from __future__ import annotations

_KEY = "Ex4mpleKey"  # digits, capitals and small letters, as a random key has

# (name, text, scrubbed text)
SECRETS: list[tuple[str, str, str]] = [
    ("openai_key", "sk-proj-" + _KEY * 4, "[scrubbed:openai_key]"),
    ("openai_key", "sk-svcacct-" + _KEY * 3, "[scrubbed:openai_key]"),
    ("openai_key", "sk-" + _KEY * 5, "[scrubbed:openai_key]"),
    ("anthropic_key", "sk-ant-api03-" + "ex4mple-Key_" * 8 + "AA", "[scrubbed:anthropic_key]"),
    ("aws_access_key_id", "AKIAIOSFODNN7EXAMPLE", "[scrubbed:aws_access_key_id]"),
    ("aws_access_key_id", "ASIA" + "EXAMPLE0" * 2, "[scrubbed:aws_access_key_id]"),
    ("google_api_key", "AIza" + "Sy" + "Ex4mple_Key-" * 2 + "0" * 9, "[scrubbed:google_api_key]"),
    ("github_token", "ghp_" + "Ex4mple0" * 4 + "abcd", "[scrubbed:github_token]"),
    ("github_token", "gho_" + "Ex4mple0" * 4 + "abcd", "[scrubbed:github_token]"),
    ("github_token", "ghu_" + "Ex4mple0" * 4 + "abcd", "[scrubbed:github_token]"),
    ("github_token", "ghs_" + "Ex4mple0" * 4 + "abcd", "[scrubbed:github_token]"),
    ("github_token", "ghr_" + "Ex4mple0" * 4 + "abcd", "[scrubbed:github_token]"),
    ("github_token", "github_pat_11" + "EXAMPLE0" * 3 + "_" + "ex4mple" * 8, "[scrubbed:github_token]"),
    ("slack_token", "xoxb-" + "1234567890-" * 2 + "Ex4mpleToken", "[scrubbed:slack_token]"),
    ("slack_token", "xoxp-" + "1234567890-" * 3 + "ex4mple", "[scrubbed:slack_token]"),
    ("stripe_key", "sk_live_" + "Ex4mple0" * 3, "[scrubbed:stripe_key]"),
    ("stripe_key", "rk_live_" + "Ex4mple0" * 3, "[scrubbed:stripe_key]"),
    (
        "jwt",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.Ex4mple_Signature-0123456789",
        "[scrubbed:jwt]",
    ),
    ("jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "[scrubbed:jwt]"),
    ("bearer_token", "Bearer " + "Ex4mpleOpaqueToken" * 2, "Bearer [scrubbed:bearer_token]"),
    ("bearer_token", "Bearer: " + "0123456789abcdef~+/ABCDEF==", "Bearer: [scrubbed:bearer_token]"),
    (
        "private_key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAexample\nexample0123==\n-----END RSA PRIVATE KEY-----",
        "[scrubbed:private_key]",
    ),
    (
        "private_key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAexample\n-----END OPENSSH PRIVATE KEY-----",
        "[scrubbed:private_key]",
    ),
    (
        "private_key",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBExample\n-----END PGP PRIVATE KEY BLOCK-----",
        "[scrubbed:private_key]",
    ),
    (
        "url_password",
        "postgres://app:hunter2@db.example.com:5432/app",
        "postgres://app:[scrubbed:url_password]@db.example.com:5432/app",
    ),
    (
        "url_password",
        "redis://:s3cr3t@cache.internal:6379/0",
        "redis://:[scrubbed:url_password]@cache.internal:6379/0",
    ),
    (
        "url_password",
        "amqp://user:p@ss@mq.example.com/",
        "amqp://user:[scrubbed:url_password]@mq.example.com/",
    ),
    ("gitlab_token", "glpat-" + "Ex4mple0Ex4mple0Ex4m", "[scrubbed:gitlab_token]"),
    ("gitlab_token", "gldt-" + "Ex4mple0Ex4mple0Ex4m", "[scrubbed:gitlab_token]"),
    ("gitlab_token", "glrt-" + "Ex4mple0Ex4mple0Ex4m", "[scrubbed:gitlab_token]"),
    ("huggingface_token", "hf_" + "ExampleKeyExampleKey" + "ExampleKeyAbcd", "[scrubbed:huggingface_token]"),
    ("npm_token", "npm_" + "Ex4mple0" * 4 + "abcd", "[scrubbed:npm_token]"),
    ("digitalocean_token", "dop_v1_" + "0123456789abcdef" * 4, "[scrubbed:digitalocean_token]"),
    (
        "sendgrid_key",
        "SG." + "Ex4mple_Key-Ex4mple_Ke" + "." + "Ex4mple_Key-" * 3 + "Ex4mple",
        "[scrubbed:sendgrid_key]",
    ),
    ("google_oauth_token", "ya29." + "a0Ex4mple_Token-" * 2, "[scrubbed:google_oauth_token]"),
    ("databricks_token", "dapi" + "0123456789abcdef" * 2, "[scrubbed:databricks_token]"),
    (
        "azure_storage_key",
        "DefaultEndpointsProtocol=https;AccountName=ex;AccountKey=" + "Ex4mple+Key/" * 7 + "AB==",
        "DefaultEndpointsProtocol=https;AccountName=ex;AccountKey=[scrubbed:azure_storage_key]",
    ),
    ("assigned_secret", "password=" + "hUnter2Ex4mple", "password=[scrubbed:assigned_secret]"),
    ("assigned_secret", 'API_KEY="' + "Ex4mple0Ex4mple0" + '"', 'API_KEY="[scrubbed:assigned_secret]"'),
    ("assigned_secret", "client_secret: " + "q8Ex4mple0Zz9", "client_secret: [scrubbed:assigned_secret]"),
    ("bearer_token", "bearer " + "Ex4mpleOpaqueToken" * 2, "bearer [scrubbed:bearer_token]"),
    ("gitlab_token", "glrt-" + "Ex4mple0" * 3, "[scrubbed:gitlab_token]"),
    ("huggingface_token", "hf_" + "Examplekey" * 3 + "abcd", "[scrubbed:huggingface_token]"),
    (
        "sendgrid_key",
        "SG." + "Ex4mple0Ex4mple0Ex4mp_" + "." + "Ex4mple0" * 5 + "abc",
        "[scrubbed:sendgrid_key]",
    ),
    ("google_oauth_token", "ya29." + "Ex4mple0" * 4, "[scrubbed:google_oauth_token]"),
    (
        "azure_storage_key",
        "AccountName=acme;AccountKey=" + "Ex4mpleKey" * 8 + "ab==;EndpointSuffix=core.windows.net",
        "AccountName=acme;AccountKey=[scrubbed:azure_storage_key];EndpointSuffix=core.windows.net",
    ),
    ("assigned_secret", "password=" + "Hunter2" + "xyz9", "password=[scrubbed:assigned_secret]"),
    ("assigned_secret", 'API_KEY="' + "Ab3dEf6h" + 'Ij9kLmN0"', 'API_KEY="[scrubbed:assigned_secret]"'),
    (
        "assigned_secret",
        '"client_secret": "' + "s3cr3t" + "-Ex4mple" + '"',
        '"client_secret": "[scrubbed:assigned_secret]"',
    ),
    (
        "bearer_token",
        "authorization: bearer " + "ex4mpleopaque" * 2,
        "authorization: bearer [scrubbed:bearer_token]",
    ),
]

#: A private-key block with no END (the prompt was trimmed, the paste stopped).
CUT_SHORT_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANexample"

PII: list[tuple[str, str, str]] = [
    ("email", "ana.costa@example.com", "[scrubbed:email]"),
    ("email", "first.last+tag@mail.example.co.uk", "[scrubbed:email]"),
    ("phone", "+44 20 7946 0958", "[scrubbed:phone]"),
    ("phone", "+1 (415) 555-2671", "[scrubbed:phone]"),
    ("phone", "+4915112345678", "[scrubbed:phone]"),
    ("card", "4111 1111 1111 1111", "[scrubbed:card]"),
    ("card", "4111-1111-1111-1111", "[scrubbed:card]"),
    ("card", "5555555555554444", "[scrubbed:card]"),
    ("card", "378282246310005", "[scrubbed:card]"),
    ("iban", "DE89 3704 0044 0532 0130 00", "[scrubbed:iban]"),
    ("iban", "GB82WEST12345698765432", "[scrubbed:iban]"),
    ("iban", "NL91ABNA0417164300", "[scrubbed:iban]"),
]

#: What the default secrets must leave as it is.
LOOKALIKES = [
    "123e4567-e89b-12d3-a456-426614174000",
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "commit da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "2026-11-24T19:25:55.344793Z and 2026-11-24T19:25:55+01:00",
    "workers W-1001, W-1017 and W-9999",
    "the task-force meets; a risk-assessment-for-the-warehouse-team is due",
    "sk-learn and the sk-SK locale",
    "a slug sk-this-is-a-long-slug-without-digits",
    "Bearer authentication; the bearer of this letter; Bearer token expired",
    "https://example.com:8080/path and https://example.com/a@b and mailto:ops@example.com",
    "ASIA is a continent, AKIA a word, AIza a prefix",
    "ghp_short, xoxb-short, sk_live_short",
    "eyJhbGciOi is half a JWT header",
    "-----BEGIN CERTIFICATE-----\nMIIBexample\n-----END CERTIFICATE-----",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwexample\n-----END PUBLIC KEY-----",
    "qwen2.5-coder:14b at http://127.0.0.1:11434/v1",
    "max_hours_per_week = 40; the next_page token",
    "glpat-short, hf_short, npm_short, dop_v1_short, SG.short, ya29.short, dapi0123",
    "password = os.environ['DB_PASSWORD']; token: ${TOKEN}; password=changeme; api_key = None",
    "the password is what you set; secret: keep it; token_count=4096; password_min_length=12",
    "AccountName=example; AccountKey=",
    "the bearer of this letter, bearer bonds",
    "glance at the gldt docs; a hf_hub_download call; npm_config_cache",
    "ana.costa@example.com, +44 20 7946 0958, 4111 1111 1111 1111 (personal data is off by default)",
    "glpat-short, the global-state, glrt-",
    "hf_short and npm_install and do_v1_step",
    "SG.short, ya29.short, dapi is a word, dapi0123",
    "AccountKey=short",
    "max_tokens=1024, password: ********, token: expired, secret = changeme",
    'password = os.environ["DB_PASSWORD"], api_key=${API_KEY}, token=<your-token>',
    "the password policy: 12 characters; a secret plan; pwd is /home/ana",
]

#: What each kind of personal data must leave as it is, with that kind on.
PII_LOOKALIKES = {
    "email": ["a@b", "@mention", "user@localhost", "x@y.z", "W-1001@shift"],
    "phone": ["UTC+01:00", "GMT+2", "2+2=4", "C++", "+1 (2)", "release 1.2+20250101", "+0 123 456 789"],
    "card": [
        "4111 1111 1111 1112",
        "1234 5678 9012 3456",
        "1700000000000",
        "20261124192555",
        "order 4000000000000001",
        "W-1001 W-1017 W-1033",
    ],
    "iban": ["DE89 3704 0044 0532 0130 01", "ISO8601", "AB12", "GB82WEST1234569876543X"],
}
