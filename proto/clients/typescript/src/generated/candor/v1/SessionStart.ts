// Original file: ../../candor/v1/candor.proto

import type { MediaFormat as _candor_v1_MediaFormat, MediaFormat__Output as _candor_v1_MediaFormat__Output } from '../../candor/v1/MediaFormat';
import type { CaptureInfo as _candor_v1_CaptureInfo, CaptureInfo__Output as _candor_v1_CaptureInfo__Output } from '../../candor/v1/CaptureInfo';

export interface SessionStart {
  'sessionId'?: (string);
  'participantId'?: (string);
  'interviewRef'?: (string);
  'candidateRef'?: (string);
  'format'?: (_candor_v1_MediaFormat);
  'fpsHint'?: (number | string);
  'capture'?: (_candor_v1_CaptureInfo | null);
  '_interviewRef'?: "interviewRef";
  '_candidateRef'?: "candidateRef";
  '_fpsHint'?: "fpsHint";
}

export interface SessionStart__Output {
  'sessionId': (string);
  'participantId': (string);
  'interviewRef'?: (string);
  'candidateRef'?: (string);
  'format': (_candor_v1_MediaFormat__Output);
  'fpsHint'?: (number);
  'capture': (_candor_v1_CaptureInfo__Output | null);
  '_interviewRef'?: "interviewRef";
  '_candidateRef'?: "candidateRef";
  '_fpsHint'?: "fpsHint";
}
