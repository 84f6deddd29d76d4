//! The Tenant URL: split the admin-entered URL into the base every request path is appended to, and
//! the feature flags that ride in its query string (`?aadOptscim062020`), which pick the [`ScimMode`].

/// Which request dialect Entra speaks (spec §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScimMode {
    /// No flag (or the downgrade flag `AzureAdScimPatch2017`): capitalised ops, string booleans in PATCH.
    #[default]
    Default,
    /// `aadOptscim062020`: lower-case ops, JSON booleans, merged path-less replace.
    Aad062020,
}

/// The flag that opts in to [`ScimMode::Aad062020`].
pub const FLAG_AAD_OPT_SCIM_062020: &str = "aadOptscim062020";
/// The downgrade flag that keeps [`ScimMode::Default`].
pub const FLAG_AZURE_AD_SCIM_PATCH_2017: &str = "AzureAdScimPatch2017";

/// Why a Tenant URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The URL does not start with `https://` or `http://`.
    #[error("tenant URL `{url}` must start with https:// (or http:// for a local server)")]
    MissingScheme {
        /// The URL as given.
        url: String,
    },
    /// Nothing between the scheme and the path.
    #[error("tenant URL `{url}` has no host")]
    MissingHost {
        /// The URL as given.
        url: String,
    },
    /// A `#fragment` cannot be part of a base address.
    #[error("tenant URL `{url}` must not contain a `#` fragment")]
    Fragment {
        /// The URL as given.
        url: String,
    },
    /// Both the opt-in and the downgrade flag were given.
    #[error(
        "tenant URL `{url}` carries both {FLAG_AAD_OPT_SCIM_062020} and {FLAG_AZURE_AD_SCIM_PATCH_2017}"
    )]
    ConflictingFlags {
        /// The URL as given.
        url: String,
    },
}

/// Splits a Tenant URL into (base without query and without trailing slash, mode, flags).
///
/// Flags are the `&`-separated items of the query string, kept as written; the mode flags are
/// recognised case-insensitively. The query never reaches request paths (spec §2.1: UNCONFIRMED how
/// Entra strips it; we remove it). Trailing slashes are trimmed so that `{base}/Users` never has `//`.
pub fn split_tenant_url(url: &str) -> Result<(String, ScimMode, Vec<String>), UrlError> {
    let trimmed = url.trim();
    let err_url = || trimmed.to_owned();
    if trimmed.contains('#') {
        return Err(UrlError::Fragment { url: err_url() });
    }
    let rest = strip_prefix_ci(trimmed, "https://")
        .or_else(|| strip_prefix_ci(trimmed, "http://"))
        .ok_or_else(|| UrlError::MissingScheme { url: err_url() })?;
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, query),
        None => (rest, ""),
    };
    let host = before_query.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(UrlError::MissingHost { url: err_url() });
    }
    let flags: Vec<String> = query
        .split('&')
        .filter(|flag| !flag.is_empty())
        .map(str::to_owned)
        .collect();
    let has = |name: &str| {
        flags
            .iter()
            .any(|flag| flag_name(flag).eq_ignore_ascii_case(name))
    };
    let mode = match (
        has(FLAG_AAD_OPT_SCIM_062020),
        has(FLAG_AZURE_AD_SCIM_PATCH_2017),
    ) {
        (true, true) => return Err(UrlError::ConflictingFlags { url: err_url() }),
        (true, false) => ScimMode::Aad062020,
        (false, _) => ScimMode::Default,
    };
    let scheme_len = trimmed.len() - rest.len();
    let base = format!(
        "{}{}",
        trimmed.get(..scheme_len).unwrap_or_default(),
        before_query.trim_end_matches('/')
    );
    Ok((base, mode, flags))
}

/// `flag=value` and `flag` both name `flag`.
fn flag_name(flag: &str) -> &str {
    flag.split_once('=').map_or(flag, |(name, _)| name)
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_flags_modes_and_trailing_slashes() {
        let cases: &[(&str, &str, ScimMode, &[&str])] = &[
            (
                "https://api.contoso.com/scim/",
                "https://api.contoso.com/scim",
                ScimMode::Default,
                &[],
            ),
            (
                "https://h/scim/v2/?aadOptscim062020",
                "https://h/scim/v2",
                ScimMode::Aad062020,
                &["aadOptscim062020"],
            ),
            (
                "https://h/scim/v2?AADOPTSCIM062020",
                "https://h/scim/v2",
                ScimMode::Aad062020,
                &["AADOPTSCIM062020"],
            ),
            (
                "https://h/scim?AzureAdScimPatch2017",
                "https://h/scim",
                ScimMode::Default,
                &["AzureAdScimPatch2017"],
            ),
            (
                "http://127.0.0.1:8080/scim/v2/?other&aadOptscim062020",
                "http://127.0.0.1:8080/scim/v2",
                ScimMode::Aad062020,
                &["other", "aadOptscim062020"],
            ),
            ("  https://h  ", "https://h", ScimMode::Default, &[]),
            ("https://h/?", "https://h", ScimMode::Default, &[]),
        ];
        for (url, base, mode, flags) in cases {
            let got = split_tenant_url(url);
            let flags: Vec<String> = flags.iter().map(|f| (*f).to_owned()).collect();
            assert_eq!(got, Ok(((*base).to_owned(), *mode, flags)), "{url}");
        }
    }

    #[test]
    fn refuses_bad_urls() {
        assert!(matches!(
            split_tenant_url("ftp://h/scim"),
            Err(UrlError::MissingScheme { .. })
        ));
        assert!(matches!(
            split_tenant_url("h/scim"),
            Err(UrlError::MissingScheme { .. })
        ));
        assert!(matches!(
            split_tenant_url("https:///scim"),
            Err(UrlError::MissingHost { .. })
        ));
        assert!(matches!(
            split_tenant_url("https://h/scim#x"),
            Err(UrlError::Fragment { .. })
        ));
        assert!(matches!(
            split_tenant_url("https://h/?aadOptscim062020&AzureAdScimPatch2017"),
            Err(UrlError::ConflictingFlags { .. })
        ));
    }
}
