//! OpenFn compiler transforms on a real JS parser (oxc).
