// validate(): JSON Schema with AJV's default behaviour (first error only, AJV messages).
// The schema cache lives here, once per step, shared by every importer.

import { expandReferences, queryJson } from '@openfn/language-common/internal/helpers';
import { print } from '@openfn/language-common/internal/inspect';
import { request } from '@openfn/language-common/internal/request';

const schemaCache = {};

const jsonType = (v) => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'number' ? 'number' : typeof v;
};

const matchesType = (v, type) => {
  switch (type) {
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number' && isFinite(v);
    default: return jsonType(v) === type;
  }
};

const deepEqual = (a, b) => {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
};

const pointerEscape = (k) => String(k).replace(/~/g, '~0').replace(/\//g, '~1');

const SCHEMA_KEYWORDS = new Set([
  '$id', '$schema', '$ref', '$comment', '$defs', '$anchor', '$dynamicRef', '$dynamicAnchor', '$recursiveRef',
  '$recursiveAnchor', '$vocabulary', 'definitions', 'title', 'description', 'default', 'examples', 'readOnly',
  'writeOnly', 'deprecated', 'type', 'enum', 'const', 'multipleOf', 'maximum', 'minimum', 'exclusiveMaximum',
  'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'format', 'items', 'additionalItems', 'prefixItems',
  'maxItems', 'minItems', 'uniqueItems', 'contains', 'maxContains', 'minContains', 'maxProperties', 'minProperties',
  'required', 'properties', 'patternProperties', 'additionalProperties', 'dependencies', 'dependentRequired',
  'dependentSchemas', 'propertyNames', 'if', 'then', 'else', 'allOf', 'anyOf', 'oneOf', 'not',
  'unevaluatedProperties', 'unevaluatedItems', 'contentMediaType', 'contentEncoding', 'contentSchema', 'nullable',
]);

// AJV's strict mode, as OpenFn runs it: unknown keywords and (without ajv-formats) every
// `format` make compiling the schema throw.
function assertStrictSchema(schema, path = '#') {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return;
  for (const key of Object.keys(schema)) {
    if (!SCHEMA_KEYWORDS.has(key)) throw new Error(`strict mode: unknown keyword: "${key}"`);
  }
  if (schema.format !== undefined) {
    throw new Error(`unknown format "${schema.format}" ignored in schema at path "${path}"`);
  }
  for (const key of ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas']) {
    for (const [name, sub] of Object.entries(schema[key] || {})) assertStrictSchema(sub, `${path}/${key}/${pointerEscape(name)}`);
  }
  for (const key of ['items', 'prefixItems', 'allOf', 'anyOf', 'oneOf']) {
    if (Array.isArray(schema[key])) schema[key].forEach((sub, i) => assertStrictSchema(sub, `${path}/${key}/${i}`));
  }
  for (const key of ['items', 'additionalItems', 'additionalProperties', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'unevaluatedProperties', 'unevaluatedItems']) {
    if (schema[key] !== undefined && !Array.isArray(schema[key])) assertStrictSchema(schema[key], `${path}/${key}`);
  }
}

function schemaValidator(root) {
  assertStrictSchema(root);
  const resolveRef = (ref) => {
    if (!ref.startsWith('#')) throw new Error(`can't resolve reference ${ref} from id #`);
    return ref.slice(1).split('/').filter(Boolean)
      .map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((node, key) => (node == null ? undefined : node[key]), root);
  };

  // Returns AJV's errors with allErrors: false: the first failure, preceded by the failures
  // of the branches of a failed anyOf/oneOf. [] when valid.
  function check(schema, data, instancePath, schemaPath) {
    if (schema === true || schema === undefined) return [];
    const fail = (keyword, params, message, path = `${schemaPath}/${keyword}`) => ({
      instancePath, schemaPath: path, keyword, params, message,
    });
    if (schema === false) return [fail('false schema', {}, 'boolean schema is false', schemaPath)];
    if (schema.$ref) {
      const target = resolveRef(schema.$ref);
      const errors = check(target, data, instancePath, schema.$ref);
      if (errors.length) return errors;
    }
    if (schema.type !== undefined) {
      const types = [].concat(schema.type);
      if (!types.some((t) => matchesType(data, t))) {
        return [fail('type', { type: Array.isArray(schema.type) ? schema.type : schema.type }, `must be ${types.join(',')}`)];
      }
    }
    if ('const' in schema && !deepEqual(data, schema.const)) {
      return [fail('const', { allowedValue: schema.const }, 'must be equal to constant')];
    }
    if (schema.enum && !schema.enum.some((v) => deepEqual(v, data))) {
      return [fail('enum', { allowedValues: schema.enum }, 'must be equal to one of the allowed values')];
    }
    if (schema.not !== undefined && check(schema.not, data, instancePath, `${schemaPath}/not`).length === 0) {
      return [fail('not', {}, 'must NOT be valid')];
    }
    if (schema.anyOf) {
      const branchErrors = [];
      const anyValid = schema.anyOf.some((s, i) => {
        const errors = check(s, data, instancePath, `${schemaPath}/anyOf/${i}`);
        branchErrors.push(...errors);
        return errors.length === 0;
      });
      if (!anyValid) return [...branchErrors, fail('anyOf', {}, 'must match a schema in anyOf')];
    }
    if (schema.oneOf) {
      const branchErrors = [];
      const passing = [];
      schema.oneOf.forEach((s, i) => {
        const errors = check(s, data, instancePath, `${schemaPath}/oneOf/${i}`);
        if (errors.length === 0) passing.push(i);
        else branchErrors.push(...errors);
      });
      if (passing.length !== 1) {
        const error = fail('oneOf', { passingSchemas: passing.length > 1 ? passing.slice(0, 2) : null }, 'must match exactly one schema in oneOf');
        return passing.length === 0 ? [...branchErrors, error] : [error];
      }
    }
    if (schema.allOf) {
      for (let i = 0; i < schema.allOf.length; i++) {
        const errors = check(schema.allOf[i], data, instancePath, `${schemaPath}/allOf/${i}`);
        if (errors.length) return errors;
      }
    }
    if (schema.if !== undefined && (schema.then !== undefined || schema.else !== undefined)) {
      const branch = check(schema.if, data, instancePath, `${schemaPath}/if`).length ? 'else' : 'then';
      if (schema[branch] !== undefined) {
        const errors = check(schema[branch], data, instancePath, `${schemaPath}/${branch}`);
        if (errors.length) return [...errors, fail('if', { failingKeyword: branch }, `must match "${branch}" schema`)];
      }
    }
    if (typeof data === 'number') {
      const limits = [
        ['maximum', '<=', (v, l) => v <= l], ['minimum', '>=', (v, l) => v >= l],
        ['exclusiveMaximum', '<', (v, l) => v < l], ['exclusiveMinimum', '>', (v, l) => v > l],
      ];
      for (const [keyword, comparison, ok] of limits) {
        if (typeof schema[keyword] === 'number' && !ok(data, schema[keyword])) {
          return [fail(keyword, { comparison, limit: schema[keyword] }, `must be ${comparison} ${schema[keyword]}`)];
        }
      }
      if (typeof schema.multipleOf === 'number') {
        const q = data / schema.multipleOf;
        if (Math.abs(Math.round(q) - q) > 1e-9) {
          return [fail('multipleOf', { multipleOf: schema.multipleOf }, `must be multiple of ${schema.multipleOf}`)];
        }
      }
    }
    if (typeof data === 'string') {
      const length = [...data].length;
      if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
        return [fail('maxLength', { limit: schema.maxLength }, `must NOT have more than ${schema.maxLength} characters`)];
      }
      if (typeof schema.minLength === 'number' && length < schema.minLength) {
        return [fail('minLength', { limit: schema.minLength }, `must NOT have fewer than ${schema.minLength} characters`)];
      }
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(data)) {
        return [fail('pattern', { pattern: schema.pattern }, `must match pattern "${schema.pattern}"`)];
      }
    }
    if (Array.isArray(data)) {
      if (typeof schema.maxItems === 'number' && data.length > schema.maxItems) {
        return [fail('maxItems', { limit: schema.maxItems }, `must NOT have more than ${schema.maxItems} items`)];
      }
      if (typeof schema.minItems === 'number' && data.length < schema.minItems) {
        return [fail('minItems', { limit: schema.minItems }, `must NOT have fewer than ${schema.minItems} items`)];
      }
      if (schema.uniqueItems === true) {
        for (let i = data.length - 1; i > 0; i--) {
          for (let j = i - 1; j >= 0; j--) {
            if (deepEqual(data[i], data[j])) {
              return [fail('uniqueItems', { i, j }, `must NOT have duplicate items (items ## ${j} and ${i} are identical)`)];
            }
          }
        }
      }
      const tuple = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : null;
      if (tuple) {
        for (let i = 0; i < Math.min(tuple.length, data.length); i++) {
          const key = Array.isArray(schema.prefixItems) ? 'prefixItems' : 'items';
          const errors = check(tuple[i], data[i], `${instancePath}/${i}`, `${schemaPath}/${key}/${i}`);
          if (errors.length) return errors;
        }
      }
      const rest = Array.isArray(schema.items) ? schema.additionalItems : tuple && schema.prefixItems ? schema.items : schema.items;
      if (rest !== undefined && !(Array.isArray(rest))) {
        const from = tuple ? tuple.length : 0;
        const key = Array.isArray(schema.items) ? 'additionalItems' : 'items';
        for (let i = from; i < data.length; i++) {
          if (rest === false) return [fail(key, { limit: from }, `must NOT have more than ${from} items`)];
          const errors = check(rest, data[i], `${instancePath}/${i}`, `${schemaPath}/${key}`);
          if (errors.length) return errors;
        }
      }
      if (schema.contains !== undefined && !data.some((item, i) => check(schema.contains, item, `${instancePath}/${i}`, `${schemaPath}/contains`).length === 0)) {
        return [fail('contains', { minContains: 1 }, 'must contain at least 1 valid item(s)')];
      }
    }
    if (jsonType(data) === 'object') {
      const keys = Object.keys(data);
      if (typeof schema.maxProperties === 'number' && keys.length > schema.maxProperties) {
        return [fail('maxProperties', { limit: schema.maxProperties }, `must NOT have more than ${schema.maxProperties} properties`)];
      }
      if (typeof schema.minProperties === 'number' && keys.length < schema.minProperties) {
        return [fail('minProperties', { limit: schema.minProperties }, `must NOT have fewer than ${schema.minProperties} properties`)];
      }
      for (const name of schema.required || []) {
        if (data[name] === undefined) {
          return [fail('required', { missingProperty: name }, `must have required property '${name}'`)];
        }
      }
      if (schema.propertyNames !== undefined) {
        for (const key of keys) {
          const errors = check(schema.propertyNames, key, instancePath, `${schemaPath}/propertyNames`);
          if (errors.length) return [...errors, fail('propertyNames', { propertyName: key }, 'property name must be valid')];
        }
      }
      if (schema.additionalProperties !== undefined && schema.additionalProperties !== true) {
        const declared = Object.keys(schema.properties || {});
        const patterns = Object.keys(schema.patternProperties || {}).map((p) => new RegExp(p, 'u'));
        for (const key of keys) {
          if (declared.includes(key) || patterns.some((p) => p.test(key))) continue;
          if (schema.additionalProperties === false) {
            return [fail('additionalProperties', { additionalProperty: key }, 'must NOT have additional properties')];
          }
          const errors = check(schema.additionalProperties, data[key], `${instancePath}/${pointerEscape(key)}`, `${schemaPath}/additionalProperties`);
          if (errors.length) return errors;
        }
      }
      for (const [key, sub] of Object.entries(schema.properties || {})) {
        if (data[key] !== undefined) {
          const errors = check(sub, data[key], `${instancePath}/${pointerEscape(key)}`, `${schemaPath}/properties/${pointerEscape(key)}`);
          if (errors.length) return errors;
        }
      }
      for (const [pattern, sub] of Object.entries(schema.patternProperties || {})) {
        const regexp = new RegExp(pattern, 'u');
        for (const key of keys) {
          if (!regexp.test(key)) continue;
          const errors = check(sub, data[key], `${instancePath}/${pointerEscape(key)}`, `${schemaPath}/patternProperties/${pointerEscape(pattern)}`);
          if (errors.length) return errors;
        }
      }
    }
    return [];
  }

  const validateData = (data) => {
    const errors = check(root, data, '', '#');
    validateData.errors = errors.length ? errors : null;
    return errors.length === 0;
  };
  return validateData;
}

export function validate(schema = 'schema', data = 'data') {
  return async (state) => {
    if (!state.validationErrors) state.validationErrors = [];
    const [dataRef] = expandReferences(state, data);
    const resolvedData = typeof dataRef === 'string' ? queryJson(dataRef, state)[0] : dataRef;
    const [schemaRef] = expandReferences(state, schema);
    let resolvedSchema = schemaRef;
    if (typeof schemaRef === 'string') {
      if (/^https?:\/\//.test(schemaRef)) {
        try {
          const response = await request('GET', schemaRef, { parseAs: 'json' });
          resolvedSchema = response.body;
        } catch (e) {
          print('error', 'Error fetching schema from ', schemaRef);
          print('error', e);
        }
      } else {
        resolvedSchema = queryJson(schemaRef, state)[0];
      }
    }
    const schemaId = (resolvedSchema && resolvedSchema.$id) || 'schema';
    if (!schemaCache[schemaId]) schemaCache[schemaId] = schemaValidator(resolvedSchema);
    const check = schemaCache[schemaId];
    if (!check(resolvedData)) {
      state.validationErrors.push({ data: state.data, errors: check.errors });
    }
    return state;
  };
}
