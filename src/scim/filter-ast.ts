// The abstract syntax of SCIM filters and PATCH paths (RFC 7644 §3.4.2.2 and §3.5.2).
// Names are kept as written by the client; resolution against a schema happens later.

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/** compValue: false / null / true / number / string (RFC 7644 §3.4.2.2 ABNF). */
export type FilterValue = string | number | boolean | null;

/** attrPath = [URI ":"] ATTRNAME *1subAttr */
export interface AttrPath {
  /** schema URN prefix, e.g. urn:ietf:params:scim:schemas:extension:enterprise:2.0:User */
  uri?: string;
  attr: string;
  sub?: string;
}

export type Filter =
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; filter: Filter }
  | { op: 'pr'; path: AttrPath }
  | { op: CompareOp; path: AttrPath; value: FilterValue }
  /**
   * valuePath = attrPath "[" valFilter "]"; paths inside `filter` are relative to the attribute's
   * sub-attributes. `attrPath[valFilter].subAttr op value` parses to `attrPath[valFilter and subAttr op value]`.
   */
  | { op: 'valuePath'; path: AttrPath; filter: Filter };

/** PATCH path = attrPath / valuePath [subAttr] */
export interface PatchPath {
  path: AttrPath;
  /** present for valuePath: emails[type eq "work"] */
  filter?: Filter;
  /** the sub-attribute after a valuePath: emails[type eq "work"].value */
  valueSub?: string;
}
