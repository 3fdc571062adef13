// Original file: ../../candor/v1/candor.proto

import type { RiskState as _candor_v1_RiskState, RiskState__Output as _candor_v1_RiskState__Output } from '../../candor/v1/RiskState';

export interface StateShare {
  'state'?: (_candor_v1_RiskState);
  'share'?: (number | string);
}

export interface StateShare__Output {
  'state': (_candor_v1_RiskState__Output);
  'share': (number);
}
