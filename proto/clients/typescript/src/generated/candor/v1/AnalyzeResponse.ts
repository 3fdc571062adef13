// Original file: ../../candor/v1/candor.proto

import type { SessionAccepted as _candor_v1_SessionAccepted, SessionAccepted__Output as _candor_v1_SessionAccepted__Output } from '../../candor/v1/SessionAccepted';
import type { SegmentResult as _candor_v1_SegmentResult, SegmentResult__Output as _candor_v1_SegmentResult__Output } from '../../candor/v1/SegmentResult';
import type { StateChange as _candor_v1_StateChange, StateChange__Output as _candor_v1_StateChange__Output } from '../../candor/v1/StateChange';
import type { SessionSummary as _candor_v1_SessionSummary, SessionSummary__Output as _candor_v1_SessionSummary__Output } from '../../candor/v1/SessionSummary';
import type { ChallengeResult as _candor_v1_ChallengeResult, ChallengeResult__Output as _candor_v1_ChallengeResult__Output } from '../../candor/v1/ChallengeResult';

export interface AnalyzeResponse {
  'accepted'?: (_candor_v1_SessionAccepted | null);
  'segment'?: (_candor_v1_SegmentResult | null);
  'stateChange'?: (_candor_v1_StateChange | null);
  'summary'?: (_candor_v1_SessionSummary | null);
  'challenge'?: (_candor_v1_ChallengeResult | null);
  'event'?: "accepted"|"segment"|"stateChange"|"summary"|"challenge";
}

export interface AnalyzeResponse__Output {
  'accepted'?: (_candor_v1_SessionAccepted__Output | null);
  'segment'?: (_candor_v1_SegmentResult__Output | null);
  'stateChange'?: (_candor_v1_StateChange__Output | null);
  'summary'?: (_candor_v1_SessionSummary__Output | null);
  'challenge'?: (_candor_v1_ChallengeResult__Output | null);
  'event'?: "accepted"|"segment"|"stateChange"|"summary"|"challenge";
}
