// Original file: ../../candor/v1/candor.proto

import type { IdentityMatchKind as _candor_v1_IdentityMatchKind, IdentityMatchKind__Output as _candor_v1_IdentityMatchKind__Output } from '../../candor/v1/IdentityMatchKind';

export interface IdentityMatch {
  'kind'?: (_candor_v1_IdentityMatchKind);
  'reference'?: (string);
  'label'?: (string);
  'similarity'?: (number | string);
}

export interface IdentityMatch__Output {
  'kind': (_candor_v1_IdentityMatchKind__Output);
  'reference': (string);
  'label': (string);
  'similarity': (number);
}
