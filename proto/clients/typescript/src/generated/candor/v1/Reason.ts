// Original file: ../../candor/v1/candor.proto

import type { RiskState as _candor_v1_RiskState, RiskState__Output as _candor_v1_RiskState__Output } from '../../candor/v1/RiskState';

export interface Reason {
  'code'?: (string);
  'state'?: (_candor_v1_RiskState);
  'signal'?: (string);
  'message'?: (string);
}

export interface Reason__Output {
  'code': (string);
  'state': (_candor_v1_RiskState__Output);
  'signal': (string);
  'message': (string);
}
