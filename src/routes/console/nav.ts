// The console's navigation: IT Settings › IAM Settings and its sub-sections in menu order. The
// breadcrumb chevrons walk this list (Red Flags and Rules follow Logs; the walk wraps around).
export interface Section {
  key: string;
  label: string;
  href: string;
}

export const IAM_BASE = '/it-settings/iam';

export const IAM_SECTIONS: Section[] = [
  { key: 'scim', label: 'SCIM Overview', href: `${IAM_BASE}/scim` },
  { key: 'tokens', label: 'Tokens', href: `${IAM_BASE}/tokens` },
  { key: 'active-directory', label: 'Active Directory', href: `${IAM_BASE}/active-directory` },
  { key: 'roles-mapping', label: 'Roles Mapping', href: `${IAM_BASE}/roles-mapping` },
  { key: 'logs', label: 'Logs', href: `${IAM_BASE}/logs` },
  { key: 'red-flags', label: 'Red Flags', href: `${IAM_BASE}/red-flags` },
  { key: 'rules', label: 'Rules', href: `${IAM_BASE}/rules` },
];

export interface Breadcrumb {
  current: Section;
  previous: Section;
  next: Section;
}

export function breadcrumbFor(key: string): Breadcrumb {
  const i = IAM_SECTIONS.findIndex((s) => s.key === key);
  if (i < 0) throw new Error(`unknown IAM section ${key}`);
  const n = IAM_SECTIONS.length;
  return { current: IAM_SECTIONS[i]!, previous: IAM_SECTIONS[(i - 1 + n) % n]!, next: IAM_SECTIONS[(i + 1) % n]! };
}
