// Original file: ../../candor/v1/candor.proto

import type { SessionSummary as _candor_v1_SessionSummary, SessionSummary__Output as _candor_v1_SessionSummary__Output } from '../../candor/v1/SessionSummary';
import type { SegmentResult as _candor_v1_SegmentResult, SegmentResult__Output as _candor_v1_SegmentResult__Output } from '../../candor/v1/SegmentResult';
import type { CaptureInfo as _candor_v1_CaptureInfo, CaptureInfo__Output as _candor_v1_CaptureInfo__Output } from '../../candor/v1/CaptureInfo';

export interface GetSessionResponse {
  'summary'?: (_candor_v1_SessionSummary | null);
  'segments'?: (_candor_v1_SegmentResult)[];
  'participantId'?: (string);
  'interviewRef'?: (string);
  'candidateRef'?: (string);
  'capture'?: (_candor_v1_CaptureInfo | null);
  '_interviewRef'?: "interviewRef";
  '_candidateRef'?: "candidateRef";
}

export interface GetSessionResponse__Output {
  'summary': (_candor_v1_SessionSummary__Output | null);
  'segments': (_candor_v1_SegmentResult__Output)[];
  'participantId': (string);
  'interviewRef'?: (string);
  'candidateRef'?: (string);
  'capture': (_candor_v1_CaptureInfo__Output | null);
  '_interviewRef'?: "interviewRef";
  '_candidateRef'?: "candidateRef";
}
