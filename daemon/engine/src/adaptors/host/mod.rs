//! Rust host functions the adaptor modules call through `globalThis.__bolt_host`.

mod csv;
mod http;
mod jsonpath;

pub use self::csv::parse_csv;
pub use self::http::http_request;
pub use self::jsonpath::jsonpath_locate;
