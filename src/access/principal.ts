// Who a request acts for. Authentication (src/auth/) proves an access key; the identity layer
// turns the key into a principal; access decisions and ownership records read only this.

export type Role = "admin" | "user";

export interface UserPrincipal {
  kind: "user";
  /** The user's name (IAM's UserName). */
  name: string;
  /** 64 hex digits: the S3 canonical user ID shown as Owner/Grantee ID. */
  canonicalId: string;
  displayName: string;
  /** IAM's unique ID (AIDA…): a user deleted and created again under the same name gets a new one. */
  userId: string;
  /** arn:aws:iam::<account>:user/<name> */
  arn: string;
  role: Role;
  /** The access key that signed this request. */
  accessKey: string;
  /** The Unix account objects written for this user belong to, when one is set. */
  uid?: number;
  gid?: number;
}

export interface AnonymousPrincipal {
  kind: "anonymous";
}

export type Principal = UserPrincipal | AnonymousPrincipal;

export const ANONYMOUS: AnonymousPrincipal = Object.freeze({ kind: "anonymous" });

/** The account number in ARNs: one gateway is one account. */
export const ACCOUNT_ID = "000000000000";
