//! package.json `exports` and `imports` maps, matched the way Node does
//! (`PACKAGE_EXPORTS_RESOLVE` / `PACKAGE_IMPORTS_RESOLVE` in Node's ESM resolution spec):
//! exact keys, then `*` patterns (the longest prefix wins), condition objects in key order,
//! fallback arrays, `null` targets that exclude a subpath.

use serde_json::Value;

/// What a subpath maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `./dist/index.js`: relative to the package directory.
    File(String),
    /// A bare specifier (only `imports` targets may be bare), resolved as a package.
    Package(String),
}

/// Why a map gives nothing for a subpath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapError {
    /// No key matches (Node: ERR_PACKAGE_PATH_NOT_EXPORTED / ERR_PACKAGE_IMPORT_NOT_DEFINED).
    NotDefined,
    /// A key matches but no target applies under these conditions, or it maps to `null`.
    NoTarget,
    /// The map itself breaks Node's rules (mixed keys, a target outside the package).
    Invalid(String),
}

/// Resolves `subpath` (`.` or `./x`) through an `exports` value.
pub fn exports_target(
    exports: &Value,
    subpath: &str,
    conditions: &[&str],
) -> Result<Target, MapError> {
    let map = match exports {
        Value::Object(map) => {
            let dotted = map.keys().filter(|k| k.starts_with('.')).count();
            if dotted != 0 && dotted != map.len() {
                return Err(MapError::Invalid(
                    "\"exports\" mixes subpaths (\"./x\") with conditions".into(),
                ));
            }
            if dotted == 0 {
                // Conditions only: they describe ".".
                return if subpath == "." {
                    target_of(exports, "", false, conditions, false)
                } else {
                    Err(MapError::NotDefined)
                };
            }
            map
        }
        // A string or an array describes "." only.
        other => {
            return if subpath == "." {
                target_of(other, "", false, conditions, false)
            } else {
                Err(MapError::NotDefined)
            };
        }
    };
    match_keys(map, subpath, conditions, false)
}

/// Resolves `#name` through an `imports` value (targets may be bare package names).
pub fn imports_target(
    imports: &Value,
    specifier: &str,
    conditions: &[&str],
) -> Result<Target, MapError> {
    match imports {
        Value::Object(map) => match_keys(map, specifier, conditions, true),
        _ => Err(MapError::NotDefined),
    }
}

fn match_keys(
    map: &serde_json::Map<String, Value>,
    subpath: &str,
    conditions: &[&str],
    allow_bare: bool,
) -> Result<Target, MapError> {
    if !subpath.contains('*')
        && let Some(value) = map.get(subpath)
    {
        return target_of(value, "", false, conditions, allow_bare);
    }
    // Patterns: the key with the longest prefix before `*` wins (Node's PATTERN_KEY_COMPARE).
    let mut best: Option<(&str, &str)> = None;
    for key in map.keys() {
        let Some(star) = key.find('*') else { continue };
        if key[star + 1..].contains('*') {
            continue;
        }
        let (prefix, suffix) = (&key[..star], &key[star + 1..]);
        if subpath.len() >= key.len()
            && subpath.starts_with(prefix)
            && subpath.ends_with(suffix)
            && subpath.len() >= prefix.len() + suffix.len()
        {
            let better = match best {
                None => true,
                Some((best_key, _)) => pattern_key_order(key, best_key),
            };
            if better {
                let matched = &subpath[prefix.len()..subpath.len() - suffix.len()];
                best = Some((key.as_str(), matched));
            }
        }
    }
    match best {
        Some((key, matched)) => target_of(&map[key], matched, true, conditions, allow_bare),
        None => Err(MapError::NotDefined),
    }
}

/// Whether pattern key `a` should be preferred over `b`.
fn pattern_key_order(a: &str, b: &str) -> bool {
    let star_a = a.find('*').unwrap_or(a.len());
    let star_b = b.find('*').unwrap_or(b.len());
    let base_a = star_a + 1;
    let base_b = star_b + 1;
    if base_a != base_b {
        return base_a > base_b;
    }
    a.len() > b.len()
}

fn target_of(
    target: &Value,
    matched: &str,
    pattern: bool,
    conditions: &[&str],
    allow_bare: bool,
) -> Result<Target, MapError> {
    match target {
        Value::String(text) => string_target(text, matched, pattern, allow_bare),
        Value::Array(options) => {
            let mut last = MapError::NoTarget;
            for option in options {
                match target_of(option, matched, pattern, conditions, allow_bare) {
                    Ok(found) => return Ok(found),
                    // An invalid fallback is skipped; the next one may work.
                    Err(e) => last = e,
                }
            }
            Err(last)
        }
        Value::Object(branches) => {
            for (condition, value) in branches {
                if condition == "default" || conditions.contains(&condition.as_str()) {
                    match target_of(value, matched, pattern, conditions, allow_bare) {
                        Ok(found) => return Ok(found),
                        Err(MapError::NoTarget) => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(MapError::NoTarget)
        }
        _ => Err(MapError::NoTarget),
    }
}

fn string_target(
    text: &str,
    matched: &str,
    pattern: bool,
    allow_bare: bool,
) -> Result<Target, MapError> {
    let substituted = if pattern {
        text.replace('*', matched)
    } else {
        text.to_string()
    };
    if !text.starts_with("./") {
        if allow_bare && !text.starts_with('/') && !text.starts_with("../") {
            return Ok(Target::Package(substituted));
        }
        return Err(MapError::Invalid(format!(
            "target {text:?} does not start with \"./\""
        )));
    }
    // Node refuses targets (and pattern matches) that climb out or reach into node_modules.
    let escapes = |path: &str| {
        path.split(['/', '\\']).skip(1).any(|segment| {
            segment == ".." || segment == "." || segment.eq_ignore_ascii_case("node_modules")
        })
    };
    if escapes(text) || (pattern && escapes(&format!("./{matched}"))) {
        return Err(MapError::Invalid(format!(
            "target {substituted:?} leaves the package"
        )));
    }
    Ok(Target::File(substituted))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use serde_json::json;

    const IMPORT: &[&str] = &["node", "import"];
    const REQUIRE: &[&str] = &["node", "require"];

    fn file(s: &str) -> Result<Target, MapError> {
        Ok(Target::File(s.into()))
    }

    #[test]
    fn conditions_pick_the_importers_entry() {
        let exports = json!({
            ".": {"import": "./dist/index.js", "types": "./types/index.d.ts", "require": "./dist/index.cjs"},
            "./package.json": "./package.json"
        });
        assert_eq!(
            exports_target(&exports, ".", IMPORT),
            file("./dist/index.js")
        );
        assert_eq!(
            exports_target(&exports, ".", REQUIRE),
            file("./dist/index.cjs")
        );
        assert_eq!(
            exports_target(&exports, "./package.json", IMPORT),
            file("./package.json")
        );
        assert_eq!(
            exports_target(&exports, "./util", IMPORT),
            Err(MapError::NotDefined)
        );
    }

    #[test]
    fn sugar_forms_describe_the_main_entry() {
        assert_eq!(
            exports_target(&json!("./main.js"), ".", IMPORT),
            file("./main.js")
        );
        let conditions = json!({"import": "./m.mjs", "default": "./c.js"});
        assert_eq!(exports_target(&conditions, ".", IMPORT), file("./m.mjs"));
        assert_eq!(exports_target(&conditions, ".", REQUIRE), file("./c.js"));
        assert_eq!(
            exports_target(&conditions, "./x", IMPORT),
            Err(MapError::NotDefined)
        );
        let mixed = json!({".": "./a.js", "import": "./b.js"});
        assert!(matches!(
            exports_target(&mixed, ".", IMPORT),
            Err(MapError::Invalid(_))
        ));
    }

    #[test]
    fn nested_conditions_and_fallbacks() {
        let exports = json!({
            ".": {
                "node": {"import": {"types": "./x.d.ts", "default": "./node.mjs"}, "require": "./node.cjs"},
                "default": "./browser.js"
            },
            "./sub": ["not-relative", "./sub.js"]
        });
        assert_eq!(exports_target(&exports, ".", IMPORT), file("./node.mjs"));
        assert_eq!(exports_target(&exports, ".", REQUIRE), file("./node.cjs"));
        assert_eq!(exports_target(&exports, ".", &[]), file("./browser.js"));
        assert_eq!(exports_target(&exports, "./sub", IMPORT), file("./sub.js"));
    }

    #[test]
    fn patterns_take_the_longest_prefix_and_null_excludes() {
        let exports = json!({
            "./*": "./lib/*.js",
            "./features/*": "./src/features/*.js",
            "./features/private/*": null,
            "./data/*.json": "./json/*.json"
        });
        assert_eq!(exports_target(&exports, "./a", IMPORT), file("./lib/a.js"));
        assert_eq!(
            exports_target(&exports, "./features/x/y", IMPORT),
            file("./src/features/x/y.js")
        );
        assert_eq!(
            exports_target(&exports, "./features/private/z", IMPORT),
            Err(MapError::NoTarget)
        );
        assert_eq!(
            exports_target(&exports, "./data/a.json", IMPORT),
            file("./json/a.json")
        );
    }

    #[test]
    fn targets_never_leave_the_package() {
        let exports = json!({"./*": "./lib/*", "./up": "./../secret.js", "./nm": "./node_modules/x/index.js"});
        assert!(matches!(
            exports_target(&exports, "./up", IMPORT),
            Err(MapError::Invalid(_))
        ));
        assert!(matches!(
            exports_target(&exports, "./nm", IMPORT),
            Err(MapError::Invalid(_))
        ));
        assert!(matches!(
            exports_target(&exports, "./../../etc/passwd", IMPORT),
            Err(MapError::Invalid(_))
        ));
    }

    #[test]
    fn imports_may_name_packages() {
        let imports = json!({
            "#dep": {"node": "dep-node", "default": "./polyfill.js"},
            "#internal/*": "./src/internal/*.js"
        });
        assert_eq!(
            imports_target(&imports, "#dep", IMPORT),
            Ok(Target::Package("dep-node".into()))
        );
        assert_eq!(imports_target(&imports, "#dep", &[]), file("./polyfill.js"));
        assert_eq!(
            imports_target(&imports, "#internal/a", IMPORT),
            file("./src/internal/a.js")
        );
        assert_eq!(
            imports_target(&imports, "#nope", IMPORT),
            Err(MapError::NotDefined)
        );
    }
}
