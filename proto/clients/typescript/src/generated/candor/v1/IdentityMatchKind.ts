// Original file: ../../candor/v1/candor.proto

export const IdentityMatchKind = {
  IDENTITY_MATCH_KIND_UNSPECIFIED: 'IDENTITY_MATCH_KIND_UNSPECIFIED',
  IDENTITY_MATCH_KIND_DUPLICATE: 'IDENTITY_MATCH_KIND_DUPLICATE',
  IDENTITY_MATCH_KIND_BLOCKLISTED: 'IDENTITY_MATCH_KIND_BLOCKLISTED',
} as const;

export type IdentityMatchKind =
  | 'IDENTITY_MATCH_KIND_UNSPECIFIED'
  | 0
  | 'IDENTITY_MATCH_KIND_DUPLICATE'
  | 1
  | 'IDENTITY_MATCH_KIND_BLOCKLISTED'
  | 2

export type IdentityMatchKind__Output = typeof IdentityMatchKind[keyof typeof IdentityMatchKind]
