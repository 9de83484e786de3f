// Permissions carried by roles. "IT Settings IAM" opens every IT Settings › IAM Settings screen.
export const PERMISSION_IAM = 'IT Settings IAM';
