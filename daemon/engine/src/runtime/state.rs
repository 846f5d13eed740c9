//! OpenFn's state assembly for a step's input (`util/assemble-state.ts`).

use serde_json::{Map, Value};

/// Step state keys first, then the input over them; `configuration` is the input's merged
/// with the step's; `data` is shallow-merged unless the input's is an array or a primitive.
pub fn assemble_state(
    input: &Value,
    step_configuration: Option<&Value>,
    step_state: Option<&Value>,
) -> Value {
    let empty = Map::new();
    let input_map = input.as_object().unwrap_or(&empty);
    let defaults = step_state.and_then(Value::as_object).unwrap_or(&empty);

    let mut state = defaults.clone();
    for (k, v) in input_map {
        state.insert(k.clone(), v.clone());
    }

    let mut configuration = Map::new();
    for source in [input_map.get("configuration"), step_configuration] {
        if let Some(Value::Object(map)) = source {
            for (k, v) in map {
                configuration.insert(k.clone(), v.clone());
            }
        }
    }
    state.insert("configuration".into(), Value::Object(configuration));

    let data = match input_map.get("data") {
        Some(d @ Value::Array(_)) => d.clone(),
        Some(d) if !d.is_object() && !d.is_null() => d.clone(),
        input_data => {
            let mut merged = Map::new();
            for source in [defaults.get("data"), input_data] {
                if let Some(Value::Object(map)) = source {
                    for (k, v) in map {
                        merged.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(merged)
        }
    };
    state.insert("data".into(), data);
    Value::Object(state)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_wins_and_step_keys_come_first() {
        let out = assemble_state(
            &json!({"data": {"a": 1}, "x": 1, "configuration": {"u": "i"}}),
            Some(&json!({"p": "s"})),
            Some(&json!({"s": 1, "data": {"a": 0, "b": 2}})),
        );
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"s":1,"data":{"a":1,"b":2},"x":1,"configuration":{"u":"i","p":"s"}}"#
        );
    }

    #[test]
    fn array_data_is_kept() {
        let out = assemble_state(
            &json!({"data": [1, 2]}),
            None,
            Some(&json!({"data": {"a": 1}})),
        );
        assert_eq!(out["data"], json!([1, 2]));
    }
}
