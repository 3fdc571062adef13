// Original file: ../../candor/v1/candor.proto

import type { FrameAccounting as _candor_v1_FrameAccounting, FrameAccounting__Output as _candor_v1_FrameAccounting__Output } from '../../candor/v1/FrameAccounting';
import type { SignalScore as _candor_v1_SignalScore, SignalScore__Output as _candor_v1_SignalScore__Output } from '../../candor/v1/SignalScore';
import type { AbstainCode as _candor_v1_AbstainCode, AbstainCode__Output as _candor_v1_AbstainCode__Output } from '../../candor/v1/AbstainCode';
import type { RiskState as _candor_v1_RiskState, RiskState__Output as _candor_v1_RiskState__Output } from '../../candor/v1/RiskState';
import type { Reason as _candor_v1_Reason, Reason__Output as _candor_v1_Reason__Output } from '../../candor/v1/Reason';
import type { StageTimings as _candor_v1_StageTimings, StageTimings__Output as _candor_v1_StageTimings__Output } from '../../candor/v1/StageTimings';
import type { Long } from '@grpc/proto-loader';

export interface SegmentResult {
  'sessionId'?: (string);
  'index'?: (number);
  'startUs'?: (number | string | Long);
  'endUs'?: (number | string | Long);
  'frames'?: (_candor_v1_FrameAccounting | null);
  'signals'?: (_candor_v1_SignalScore)[];
  'abstain'?: (_candor_v1_AbstainCode);
  'syntheticConfidence'?: (number | string);
  'state'?: (_candor_v1_RiskState);
  'reasons'?: (_candor_v1_Reason)[];
  'timings'?: (_candor_v1_StageTimings | null);
  'attackScore'?: (number | string);
  'syntheticFaceConfidence'?: (number | string);
  '_syntheticConfidence'?: "syntheticConfidence";
  '_attackScore'?: "attackScore";
  '_syntheticFaceConfidence'?: "syntheticFaceConfidence";
}

export interface SegmentResult__Output {
  'sessionId': (string);
  'index': (number);
  'startUs': (string);
  'endUs': (string);
  'frames': (_candor_v1_FrameAccounting__Output | null);
  'signals': (_candor_v1_SignalScore__Output)[];
  'abstain': (_candor_v1_AbstainCode__Output);
  'syntheticConfidence'?: (number);
  'state': (_candor_v1_RiskState__Output);
  'reasons': (_candor_v1_Reason__Output)[];
  'timings': (_candor_v1_StageTimings__Output | null);
  'attackScore'?: (number);
  'syntheticFaceConfidence'?: (number);
  '_syntheticConfidence'?: "syntheticConfidence";
  '_attackScore'?: "attackScore";
  '_syntheticFaceConfidence'?: "syntheticFaceConfidence";
}
