// Original file: ../../candor/v1/candor.proto

import type { SessionStart as _candor_v1_SessionStart, SessionStart__Output as _candor_v1_SessionStart__Output } from '../../candor/v1/SessionStart';
import type { MediaChunk as _candor_v1_MediaChunk, MediaChunk__Output as _candor_v1_MediaChunk__Output } from '../../candor/v1/MediaChunk';
import type { VideoFrame as _candor_v1_VideoFrame, VideoFrame__Output as _candor_v1_VideoFrame__Output } from '../../candor/v1/VideoFrame';
import type { Finish as _candor_v1_Finish, Finish__Output as _candor_v1_Finish__Output } from '../../candor/v1/Finish';

export interface AnalyzeRequest {
  'start'?: (_candor_v1_SessionStart | null);
  'chunk'?: (_candor_v1_MediaChunk | null);
  'frame'?: (_candor_v1_VideoFrame | null);
  'finish'?: (_candor_v1_Finish | null);
  'message'?: "start"|"chunk"|"frame"|"finish";
}

export interface AnalyzeRequest__Output {
  'start'?: (_candor_v1_SessionStart__Output | null);
  'chunk'?: (_candor_v1_MediaChunk__Output | null);
  'frame'?: (_candor_v1_VideoFrame__Output | null);
  'finish'?: (_candor_v1_Finish__Output | null);
  'message'?: "start"|"chunk"|"frame"|"finish";
}
