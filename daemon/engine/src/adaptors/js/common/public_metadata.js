// What `@openfn/language-common/metadata` gives an npm adaptor that runs on bolt's built-in
// common: createEntity(), which adaptors' metadata helpers build their trees with.

function addChild(entity, name) {
  if (!this.children) this.children = name ? {} : [];
  if (name) {
    if (Array.isArray(this.children)) throw new Error('Cannot add a named entity to child array');
    this.children[name] = entity;
  } else {
    this.children.push(entity);
  }
}

export function createEntity(name, type, props = {}, children) {
  const { label, datatype, ...meta } = props;
  const entity = { name, type, addChild };
  if (label) entity.label = label;
  if (datatype) entity.datatype = datatype;
  if (children) entity.children = children;
  entity.meta = meta || {};
  return entity;
}
