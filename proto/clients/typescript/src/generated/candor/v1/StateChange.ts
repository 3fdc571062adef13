// Original file: ../../candor/v1/candor.proto

import type { RiskState as _candor_v1_RiskState, RiskState__Output as _candor_v1_RiskState__Output } from '../../candor/v1/RiskState';
import type { Reason as _candor_v1_Reason, Reason__Output as _candor_v1_Reason__Output } from '../../candor/v1/Reason';
import type { Long } from '@grpc/proto-loader';

export interface StateChange {
  'sessionId'?: (string);
  'from'?: (_candor_v1_RiskState);
  'to'?: (_candor_v1_RiskState);
  'segmentIndex'?: (number);
  'atUs'?: (number | string | Long);
  'reasons'?: (_candor_v1_Reason)[];
}

export interface StateChange__Output {
  'sessionId': (string);
  'from': (_candor_v1_RiskState__Output);
  'to': (_candor_v1_RiskState__Output);
  'segmentIndex': (number);
  'atUs': (string);
  'reasons': (_candor_v1_Reason__Output)[];
}
