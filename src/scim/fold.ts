// The one case fold of iamtrail's case-insensitive strings (RFC 7643 §2.2 caseExact=false: userName,
// a group's displayName, emails, …): the locale-independent Unicode lower-case mapping. SQLite's own
// lower() folds ASCII only, so the database never folds: the stored key columns (user_name_key,
// display_name_key) hold fold() computed here, and queries compare them, or the scim_fold() SQL
// function (this same fold, registered on every connection), with a parameter folded here.

/** "Élodie.Durand@Contoso.com" → "élodie.durand@contoso.com" */
export const fold = (s: string): string => s.toLowerCase();

/** fold() for SQL values: strings are folded; null, numbers and blobs are returned unchanged */
export const foldSqlValue = (v: unknown): unknown => (typeof v === 'string' ? fold(v) : v);
