// Original file: ../../candor/v1/candor.proto

import type { RiskState as _candor_v1_RiskState, RiskState__Output as _candor_v1_RiskState__Output } from '../../candor/v1/RiskState';
import type { StateShare as _candor_v1_StateShare, StateShare__Output as _candor_v1_StateShare__Output } from '../../candor/v1/StateShare';
import type { FrameAccounting as _candor_v1_FrameAccounting, FrameAccounting__Output as _candor_v1_FrameAccounting__Output } from '../../candor/v1/FrameAccounting';
import type { ReasonTally as _candor_v1_ReasonTally, ReasonTally__Output as _candor_v1_ReasonTally__Output } from '../../candor/v1/ReasonTally';
import type { Long } from '@grpc/proto-loader';

export interface SessionSummary {
  'sessionId'?: (string);
  'worstState'?: (_candor_v1_RiskState);
  'timeShare'?: (_candor_v1_StateShare)[];
  'frames'?: (_candor_v1_FrameAccounting | null);
  'segments'?: (number);
  'durationUs'?: (number | string | Long);
  'meanLiveness'?: (number | string);
  'maxSyntheticConfidence'?: (number | string);
  'reasons'?: (_candor_v1_ReasonTally)[];
  'complete'?: (boolean);
  'endedBy'?: (string);
  'candidateSimilarity'?: (number | string);
  'blinks'?: (number);
  'maxAttackScore'?: (number | string);
  '_meanLiveness'?: "meanLiveness";
  '_maxSyntheticConfidence'?: "maxSyntheticConfidence";
  '_candidateSimilarity'?: "candidateSimilarity";
  '_blinks'?: "blinks";
  '_maxAttackScore'?: "maxAttackScore";
}

export interface SessionSummary__Output {
  'sessionId': (string);
  'worstState': (_candor_v1_RiskState__Output);
  'timeShare': (_candor_v1_StateShare__Output)[];
  'frames': (_candor_v1_FrameAccounting__Output | null);
  'segments': (number);
  'durationUs': (string);
  'meanLiveness'?: (number);
  'maxSyntheticConfidence'?: (number);
  'reasons': (_candor_v1_ReasonTally__Output)[];
  'complete': (boolean);
  'endedBy': (string);
  'candidateSimilarity'?: (number);
  'blinks'?: (number);
  'maxAttackScore'?: (number);
  '_meanLiveness'?: "meanLiveness";
  '_maxSyntheticConfidence'?: "maxSyntheticConfidence";
  '_candidateSimilarity'?: "candidateSimilarity";
  '_blinks'?: "blinks";
  '_maxAttackScore'?: "maxAttackScore";
}
