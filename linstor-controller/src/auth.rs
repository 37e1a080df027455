//! Bearer-token authentication of the REST API in LINSTOR's shape (1.34): off until
//! `POST /v1/controller/auth/initialize-token-auth` turns it on and returns the first token
//! once; from then on every request but `/health` (and `/`, `/ui`) needs
//! `Authorization: Bearer <token>` with an active, unexpired token, or gets 401 with
//! `WWW-Authenticate: Bearer realm="linstor-controller"` and an `ApiCallRc` that says what to do.
//!
//! Tokens are kept as SHA-256 hashes only (`store::auth`) and compared in constant time. The
//! decision is the pure [`check`].

use sha2::{Digest, Sha256};

/// One token as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenRow {
    /// LINSTOR's token id.
    pub id: i64,
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// What the token is for.
    pub description: String,
    /// Seconds since the epoch.
    pub created_at: i64,
    /// Disabled tokens are refused.
    pub is_active: bool,
    /// Revoked (seconds since the epoch): refused, and no longer listed.
    pub deleted_at: Option<i64>,
    /// Seconds since the epoch after which the token is refused.
    pub expires_at: Option<i64>,
}

impl TokenRow {
    /// Active, not revoked, not expired at `now`.
    pub fn valid_at(&self, now: i64) -> bool {
        self.is_active && self.deleted_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

/// Whether token auth is on, and the tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthState {
    /// Turned on by initialize-token-auth (LINSTOR's controller property).
    pub enabled: bool,
    /// Every token, revoked ones too.
    pub tokens: Vec<TokenRow>,
}

/// What [`check`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Token auth is off, or the path is always open.
    Open,
    /// A valid token was presented (its id).
    Granted(i64),
    /// No `Authorization: Bearer …` header.
    Missing,
    /// A bearer token that is not (or no longer) valid.
    Invalid,
}

/// Paths LINSTOR serves without a token.
const OPEN_PATHS: &[&str] = &["/", "/health", "/health/", "/ui", "/ui/"];

/// The hex SHA-256 of a token, as stored.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equal in time independent of where they differ (lengths are public: hex digests).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The decision for one request: `authorization` is the header's value, `now` seconds since
/// the epoch. On (LINSTOR) only when enabled and some token is still valid.
pub fn check(state: &AuthState, path: &str, authorization: Option<&[u8]>, now: i64) -> Access {
    if OPEN_PATHS.contains(&path) || !state.enabled || !state.tokens.iter().any(|t| t.valid_at(now))
    {
        return Access::Open;
    }
    let Some(token) = authorization.and_then(bearer) else {
        return Access::Missing;
    };
    let presented = hash(token);
    // Every row is compared, so the time does not tell which one matched.
    let mut found = None;
    for t in &state.tokens {
        if ct_eq(t.hash.as_bytes(), presented.as_bytes()) && t.valid_at(now) {
            found = Some(t.id);
        }
    }
    found.map_or(Access::Invalid, Access::Granted)
}

/// The token of `Bearer <token>` (scheme case-insensitive).
fn bearer(value: &[u8]) -> Option<&str> {
    let v = std::str::from_utf8(value).ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A new token: 32 letters and digits from the OS's randomness.
pub fn new_token() -> Result<String, getrandom::Error> {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(32);
    let mut buf = [0u8; 64];
    while out.len() < 32 {
        getrandom::fill(&mut buf)?;
        // 248 = 4 × 62: bytes above it would make some characters likelier.
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() < 32 {
                out.push(char::from(ALNUM[usize::from(*b) % 62]));
            }
        }
    }
    Ok(out)
}

/// `YYYY-MM-DDTHH:MM:SSZ` of seconds since the epoch (UTC).
pub fn iso_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The start (UTC) of the date an `expires_at` begins with (`2026-12-31…`), as LINSTOR reads
/// it; `None` when it does not begin with a date.
pub fn parse_date(text: &str) -> Option<i64> {
    let date = text.get(..10)?;
    let mut it = date.split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if date.len() != 10
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
        || !(1970..=9999).contains(&y)
    {
        return None;
    }
    // Days since the epoch of a civil date (inverse of `iso_utc`'s).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (iso_utc(days * 86_400).get(..10) == Some(date)).then_some(days * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, token: &str) -> TokenRow {
        TokenRow {
            id,
            hash: hash(token),
            description: "t".into(),
            created_at: 0,
            is_active: true,
            deleted_at: None,
            expires_at: None,
        }
    }

    fn check_table(state: &AuthState, cases: &[(&str, Option<&str>, Access)]) {
        for (path, header, want) in cases {
            let got = check(state, path, header.map(str::as_bytes), 100);
            assert_eq!(&got, want, "{path} {header:?}");
        }
    }

    #[test]
    fn decisions() {
        let mut disabled = row(3, "dis");
        disabled.is_active = false;
        let mut revoked = row(4, "rev");
        revoked.deleted_at = Some(50);
        let mut expired = row(5, "old");
        expired.expires_at = Some(99);
        let mut later = row(6, "later");
        later.expires_at = Some(101);
        let on = AuthState {
            enabled: true,
            tokens: vec![row(1, "good"), disabled, revoked, expired, later],
        };
        check_table(
            &on,
            &[
                ("/v1/nodes", None, Access::Missing),
                ("/v1/nodes", Some("Bearer good"), Access::Granted(1)),
                ("/v1/nodes", Some("bearer  good "), Access::Granted(1)),
                ("/v1/nodes", Some("Bearer later"), Access::Granted(6)),
                ("/v1/nodes", Some("Bearer bad"), Access::Invalid),
                ("/v1/nodes", Some("Bearer dis"), Access::Invalid),
                ("/v1/nodes", Some("Bearer rev"), Access::Invalid),
                ("/v1/nodes", Some("Bearer old"), Access::Invalid),
                ("/v1/nodes", Some("Basic Z29vZA=="), Access::Missing),
                ("/v1/nodes", Some("Bearer"), Access::Missing),
                ("/v1/nodes", Some("Bearer "), Access::Missing),
                ("/v1/nodes", Some("good"), Access::Missing),
                ("/health", None, Access::Open),
                ("/metrics", None, Access::Missing),
                (
                    "/v1/controller/auth/initialize-token-auth",
                    None,
                    Access::Missing,
                ),
            ],
        );
        let off = AuthState {
            enabled: false,
            tokens: on.tokens.clone(),
        };
        check_table(&off, &[("/v1/nodes", None, Access::Open)]);
        // Enabled, but no token is valid any more: open, as LINSTOR (nobody is locked out).
        let none_valid = AuthState {
            enabled: true,
            tokens: vec![on.tokens[1].clone(), on.tokens[2].clone()],
        };
        check_table(&none_valid, &[("/v1/nodes", None, Access::Open)]);
        assert_eq!(
            check(&on, "/v1/nodes", Some(&[0xff, 0xfe][..]), 100),
            Access::Missing
        );
    }

    #[test]
    fn dates() {
        for (secs, iso) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_798_761_599, "2026-12-31T23:59:59Z"),
        ] {
            assert_eq!(iso_utc(secs), iso);
        }
        for (text, want) in [
            ("2000-02-29", Some(951_782_400)),
            ("2026-12-31T10:00:00Z", Some(1_798_675_200)),
            ("2026-02-30", None),
            ("2026-13-01", None),
            ("tomorrow", None),
            ("", None),
            ("ノードノ", None),
        ] {
            assert_eq!(parse_date(text), want, "{text}");
        }
    }

    #[test]
    fn tokens_are_32_alphanumerics_and_differ() {
        let a = new_token().expect("randomness");
        let b = new_token().expect("randomness");
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
        assert_eq!(hash("abc").len(), 64);
    }
}
