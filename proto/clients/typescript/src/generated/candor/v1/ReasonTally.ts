// Original file: ../../candor/v1/candor.proto

import type { RiskState as _candor_v1_RiskState, RiskState__Output as _candor_v1_RiskState__Output } from '../../candor/v1/RiskState';

export interface ReasonTally {
  'code'?: (string);
  'state'?: (_candor_v1_RiskState);
  'segments'?: (number);
  'example'?: (string);
  'timeShare'?: (number | string);
}

export interface ReasonTally__Output {
  'code': (string);
  'state': (_candor_v1_RiskState__Output);
  'segments': (number);
  'example': (string);
  'timeShare': (number);
}
