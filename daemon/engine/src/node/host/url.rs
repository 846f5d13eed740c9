//! WHATWG URL parsing and setters for `URL` (node:url, the global), through the `url` crate,
//! whose `quirks` module implements exactly the URL Standard's getters and setters.

use crate::runtime::warm::host_function;
use rquickjs::{Ctx, Object};
use url::{Url, quirks};

/// The URL's parts in the order the JS side reads them.
fn parts(url: &Url) -> Vec<String> {
    vec![
        quirks::href(url).to_string(),
        quirks::origin(url),
        quirks::protocol(url).to_string(),
        quirks::username(url).to_string(),
        quirks::password(url).to_string(),
        quirks::host(url).to_string(),
        quirks::hostname(url).to_string(),
        quirks::port(url).to_string(),
        quirks::pathname(url).to_string(),
        quirks::search(url).to_string(),
        quirks::hash(url).to_string(),
    ]
}

/// `new URL(input, base)`: the parts, or `None` when either doesn't parse.
pub fn parse(input: &str, base: Option<&str>) -> Option<Vec<String>> {
    let url = match base {
        Some(base) => {
            let base = Url::parse(base).ok()?;
            Url::options().base_url(Some(&base)).parse(input).ok()?
        }
        None => Url::parse(input).ok()?,
    };
    Some(parts(&url))
}

/// Applies one setter to `href` (which came from `parse`). `None` when `href` setter refuses
/// the value (the others ignore what they can't use, as the standard says).
pub fn set(href: &str, part: &str, value: &str) -> Option<Vec<String>> {
    let mut url = Url::parse(href).ok()?;
    match part {
        "href" => quirks::set_href(&mut url, value).ok()?,
        "protocol" => {
            let _ = quirks::set_protocol(&mut url, value);
        }
        "username" => {
            let _ = quirks::set_username(&mut url, value);
        }
        "password" => {
            let _ = quirks::set_password(&mut url, value);
        }
        "host" => {
            let _ = quirks::set_host(&mut url, value);
        }
        "hostname" => {
            let _ = quirks::set_hostname(&mut url, value);
        }
        "port" => {
            let _ = quirks::set_port(&mut url, value);
        }
        "pathname" => quirks::set_pathname(&mut url, value),
        "search" => quirks::set_search(&mut url, value),
        "hash" => quirks::set_hash(&mut url, value),
        _ => return None,
    }
    Some(parts(&url))
}

pub fn functions<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    object.set(
        "parse",
        host_function(ctx, |input: String, base: Option<String>| {
            parse(&input, base.as_deref())
        })?,
    )?;
    object.set(
        "set",
        host_function(ctx, |href: String, part: String, value: String| {
            set(&href, &part, &value)
        })?,
    )?;
    object.set(
        "toAscii",
        host_function(ctx, |domain: String| quirks::domain_to_ascii(&domain))?,
    )?;
    object.set(
        "toUnicode",
        host_function(ctx, |domain: String| quirks::domain_to_unicode(&domain))?,
    )?;
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relative_to_a_base_and_applies_setters() {
        let got = parse("../c?x=1#f", Some("https://user:pw@Example.COM:443/a/b/")).unwrap();
        assert_eq!(got[0], "https://user:pw@example.com/a/c?x=1#f");
        assert_eq!(got[1], "https://example.com");
        assert_eq!(got[7], "");
        assert!(parse("no scheme", None).is_none());
        let set_port = set("http://h/p", "port", "8080").unwrap();
        assert_eq!(set_port[0], "http://h:8080/p");
        assert!(set("http://h/p", "href", "::").is_none());
    }
}
