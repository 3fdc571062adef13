import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddToBlocklistRequest as _candor_v1_AddToBlocklistRequest, AddToBlocklistRequest__Output as _candor_v1_AddToBlocklistRequest__Output } from './candor/v1/AddToBlocklistRequest';
import type { AnalyzeRequest as _candor_v1_AnalyzeRequest, AnalyzeRequest__Output as _candor_v1_AnalyzeRequest__Output } from './candor/v1/AnalyzeRequest';
import type { AnalyzeResponse as _candor_v1_AnalyzeResponse, AnalyzeResponse__Output as _candor_v1_AnalyzeResponse__Output } from './candor/v1/AnalyzeResponse';
import type { BlocklistEntry as _candor_v1_BlocklistEntry, BlocklistEntry__Output as _candor_v1_BlocklistEntry__Output } from './candor/v1/BlocklistEntry';
import type { CandorClient as _candor_v1_CandorClient, CandorDefinition as _candor_v1_CandorDefinition } from './candor/v1/Candor';
import type { CaptureInfo as _candor_v1_CaptureInfo, CaptureInfo__Output as _candor_v1_CaptureInfo__Output } from './candor/v1/CaptureInfo';
import type { ChallengeRequest as _candor_v1_ChallengeRequest, ChallengeRequest__Output as _candor_v1_ChallengeRequest__Output } from './candor/v1/ChallengeRequest';
import type { ChallengeResponse as _candor_v1_ChallengeResponse, ChallengeResponse__Output as _candor_v1_ChallengeResponse__Output } from './candor/v1/ChallengeResponse';
import type { ChallengeResult as _candor_v1_ChallengeResult, ChallengeResult__Output as _candor_v1_ChallengeResult__Output } from './candor/v1/ChallengeResult';
import type { CreateViewLinkRequest as _candor_v1_CreateViewLinkRequest, CreateViewLinkRequest__Output as _candor_v1_CreateViewLinkRequest__Output } from './candor/v1/CreateViewLinkRequest';
import type { CreateViewLinkResponse as _candor_v1_CreateViewLinkResponse, CreateViewLinkResponse__Output as _candor_v1_CreateViewLinkResponse__Output } from './candor/v1/CreateViewLinkResponse';
import type { DeleteCandidateRequest as _candor_v1_DeleteCandidateRequest, DeleteCandidateRequest__Output as _candor_v1_DeleteCandidateRequest__Output } from './candor/v1/DeleteCandidateRequest';
import type { DeleteCandidateResponse as _candor_v1_DeleteCandidateResponse, DeleteCandidateResponse__Output as _candor_v1_DeleteCandidateResponse__Output } from './candor/v1/DeleteCandidateResponse';
import type { EffectiveSettings as _candor_v1_EffectiveSettings, EffectiveSettings__Output as _candor_v1_EffectiveSettings__Output } from './candor/v1/EffectiveSettings';
import type { EnrollCandidateRequest as _candor_v1_EnrollCandidateRequest, EnrollCandidateRequest__Output as _candor_v1_EnrollCandidateRequest__Output } from './candor/v1/EnrollCandidateRequest';
import type { EnrollCandidateResponse as _candor_v1_EnrollCandidateResponse, EnrollCandidateResponse__Output as _candor_v1_EnrollCandidateResponse__Output } from './candor/v1/EnrollCandidateResponse';
import type { Finish as _candor_v1_Finish, Finish__Output as _candor_v1_Finish__Output } from './candor/v1/Finish';
import type { FrameAccounting as _candor_v1_FrameAccounting, FrameAccounting__Output as _candor_v1_FrameAccounting__Output } from './candor/v1/FrameAccounting';
import type { GetJobRequest as _candor_v1_GetJobRequest, GetJobRequest__Output as _candor_v1_GetJobRequest__Output } from './candor/v1/GetJobRequest';
import type { GetSessionRequest as _candor_v1_GetSessionRequest, GetSessionRequest__Output as _candor_v1_GetSessionRequest__Output } from './candor/v1/GetSessionRequest';
import type { GetSessionResponse as _candor_v1_GetSessionResponse, GetSessionResponse__Output as _candor_v1_GetSessionResponse__Output } from './candor/v1/GetSessionResponse';
import type { IdentityMatch as _candor_v1_IdentityMatch, IdentityMatch__Output as _candor_v1_IdentityMatch__Output } from './candor/v1/IdentityMatch';
import type { InfoRequest as _candor_v1_InfoRequest, InfoRequest__Output as _candor_v1_InfoRequest__Output } from './candor/v1/InfoRequest';
import type { InfoResponse as _candor_v1_InfoResponse, InfoResponse__Output as _candor_v1_InfoResponse__Output } from './candor/v1/InfoResponse';
import type { JobFile as _candor_v1_JobFile, JobFile__Output as _candor_v1_JobFile__Output } from './candor/v1/JobFile';
import type { JobStatus as _candor_v1_JobStatus, JobStatus__Output as _candor_v1_JobStatus__Output } from './candor/v1/JobStatus';
import type { ListBlocklistRequest as _candor_v1_ListBlocklistRequest, ListBlocklistRequest__Output as _candor_v1_ListBlocklistRequest__Output } from './candor/v1/ListBlocklistRequest';
import type { ListBlocklistResponse as _candor_v1_ListBlocklistResponse, ListBlocklistResponse__Output as _candor_v1_ListBlocklistResponse__Output } from './candor/v1/ListBlocklistResponse';
import type { Measurement as _candor_v1_Measurement, Measurement__Output as _candor_v1_Measurement__Output } from './candor/v1/Measurement';
import type { MediaChunk as _candor_v1_MediaChunk, MediaChunk__Output as _candor_v1_MediaChunk__Output } from './candor/v1/MediaChunk';
import type { ModelInfo as _candor_v1_ModelInfo, ModelInfo__Output as _candor_v1_ModelInfo__Output } from './candor/v1/ModelInfo';
import type { Reason as _candor_v1_Reason, Reason__Output as _candor_v1_Reason__Output } from './candor/v1/Reason';
import type { ReasonTally as _candor_v1_ReasonTally, ReasonTally__Output as _candor_v1_ReasonTally__Output } from './candor/v1/ReasonTally';
import type { RemoveFromBlocklistRequest as _candor_v1_RemoveFromBlocklistRequest, RemoveFromBlocklistRequest__Output as _candor_v1_RemoveFromBlocklistRequest__Output } from './candor/v1/RemoveFromBlocklistRequest';
import type { RemoveFromBlocklistResponse as _candor_v1_RemoveFromBlocklistResponse, RemoveFromBlocklistResponse__Output as _candor_v1_RemoveFromBlocklistResponse__Output } from './candor/v1/RemoveFromBlocklistResponse';
import type { SegmentResult as _candor_v1_SegmentResult, SegmentResult__Output as _candor_v1_SegmentResult__Output } from './candor/v1/SegmentResult';
import type { SessionAccepted as _candor_v1_SessionAccepted, SessionAccepted__Output as _candor_v1_SessionAccepted__Output } from './candor/v1/SessionAccepted';
import type { SessionStart as _candor_v1_SessionStart, SessionStart__Output as _candor_v1_SessionStart__Output } from './candor/v1/SessionStart';
import type { SessionSummary as _candor_v1_SessionSummary, SessionSummary__Output as _candor_v1_SessionSummary__Output } from './candor/v1/SessionSummary';
import type { SignalScore as _candor_v1_SignalScore, SignalScore__Output as _candor_v1_SignalScore__Output } from './candor/v1/SignalScore';
import type { StageTimings as _candor_v1_StageTimings, StageTimings__Output as _candor_v1_StageTimings__Output } from './candor/v1/StageTimings';
import type { StateChange as _candor_v1_StateChange, StateChange__Output as _candor_v1_StateChange__Output } from './candor/v1/StateChange';
import type { StateShare as _candor_v1_StateShare, StateShare__Output as _candor_v1_StateShare__Output } from './candor/v1/StateShare';
import type { SubmitJobRequest as _candor_v1_SubmitJobRequest, SubmitJobRequest__Output as _candor_v1_SubmitJobRequest__Output } from './candor/v1/SubmitJobRequest';
import type { VideoFrame as _candor_v1_VideoFrame, VideoFrame__Output as _candor_v1_VideoFrame__Output } from './candor/v1/VideoFrame';
import type { WatchJobRequest as _candor_v1_WatchJobRequest, WatchJobRequest__Output as _candor_v1_WatchJobRequest__Output } from './candor/v1/WatchJobRequest';
import type { WatchSessionRequest as _candor_v1_WatchSessionRequest, WatchSessionRequest__Output as _candor_v1_WatchSessionRequest__Output } from './candor/v1/WatchSessionRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  candor: {
    v1: {
      AbstainCode: EnumTypeDefinition
      AddToBlocklistRequest: MessageTypeDefinition<_candor_v1_AddToBlocklistRequest, _candor_v1_AddToBlocklistRequest__Output>
      AnalyzeRequest: MessageTypeDefinition<_candor_v1_AnalyzeRequest, _candor_v1_AnalyzeRequest__Output>
      AnalyzeResponse: MessageTypeDefinition<_candor_v1_AnalyzeResponse, _candor_v1_AnalyzeResponse__Output>
      BlocklistEntry: MessageTypeDefinition<_candor_v1_BlocklistEntry, _candor_v1_BlocklistEntry__Output>
      Candor: SubtypeConstructor<typeof grpc.Client, _candor_v1_CandorClient> & { service: _candor_v1_CandorDefinition }
      CaptureInfo: MessageTypeDefinition<_candor_v1_CaptureInfo, _candor_v1_CaptureInfo__Output>
      ChallengeKind: EnumTypeDefinition
      ChallengeOutcome: EnumTypeDefinition
      ChallengeRequest: MessageTypeDefinition<_candor_v1_ChallengeRequest, _candor_v1_ChallengeRequest__Output>
      ChallengeResponse: MessageTypeDefinition<_candor_v1_ChallengeResponse, _candor_v1_ChallengeResponse__Output>
      ChallengeResult: MessageTypeDefinition<_candor_v1_ChallengeResult, _candor_v1_ChallengeResult__Output>
      CreateViewLinkRequest: MessageTypeDefinition<_candor_v1_CreateViewLinkRequest, _candor_v1_CreateViewLinkRequest__Output>
      CreateViewLinkResponse: MessageTypeDefinition<_candor_v1_CreateViewLinkResponse, _candor_v1_CreateViewLinkResponse__Output>
      DeleteCandidateRequest: MessageTypeDefinition<_candor_v1_DeleteCandidateRequest, _candor_v1_DeleteCandidateRequest__Output>
      DeleteCandidateResponse: MessageTypeDefinition<_candor_v1_DeleteCandidateResponse, _candor_v1_DeleteCandidateResponse__Output>
      EffectiveSettings: MessageTypeDefinition<_candor_v1_EffectiveSettings, _candor_v1_EffectiveSettings__Output>
      EnrollCandidateRequest: MessageTypeDefinition<_candor_v1_EnrollCandidateRequest, _candor_v1_EnrollCandidateRequest__Output>
      EnrollCandidateResponse: MessageTypeDefinition<_candor_v1_EnrollCandidateResponse, _candor_v1_EnrollCandidateResponse__Output>
      Finish: MessageTypeDefinition<_candor_v1_Finish, _candor_v1_Finish__Output>
      FrameAccounting: MessageTypeDefinition<_candor_v1_FrameAccounting, _candor_v1_FrameAccounting__Output>
      GetJobRequest: MessageTypeDefinition<_candor_v1_GetJobRequest, _candor_v1_GetJobRequest__Output>
      GetSessionRequest: MessageTypeDefinition<_candor_v1_GetSessionRequest, _candor_v1_GetSessionRequest__Output>
      GetSessionResponse: MessageTypeDefinition<_candor_v1_GetSessionResponse, _candor_v1_GetSessionResponse__Output>
      IdentityMatch: MessageTypeDefinition<_candor_v1_IdentityMatch, _candor_v1_IdentityMatch__Output>
      IdentityMatchKind: EnumTypeDefinition
      InfoRequest: MessageTypeDefinition<_candor_v1_InfoRequest, _candor_v1_InfoRequest__Output>
      InfoResponse: MessageTypeDefinition<_candor_v1_InfoResponse, _candor_v1_InfoResponse__Output>
      JobFile: MessageTypeDefinition<_candor_v1_JobFile, _candor_v1_JobFile__Output>
      JobFileStatus: EnumTypeDefinition
      JobStatus: MessageTypeDefinition<_candor_v1_JobStatus, _candor_v1_JobStatus__Output>
      ListBlocklistRequest: MessageTypeDefinition<_candor_v1_ListBlocklistRequest, _candor_v1_ListBlocklistRequest__Output>
      ListBlocklistResponse: MessageTypeDefinition<_candor_v1_ListBlocklistResponse, _candor_v1_ListBlocklistResponse__Output>
      Measurement: MessageTypeDefinition<_candor_v1_Measurement, _candor_v1_Measurement__Output>
      MediaChunk: MessageTypeDefinition<_candor_v1_MediaChunk, _candor_v1_MediaChunk__Output>
      MediaFormat: EnumTypeDefinition
      ModelInfo: MessageTypeDefinition<_candor_v1_ModelInfo, _candor_v1_ModelInfo__Output>
      Reason: MessageTypeDefinition<_candor_v1_Reason, _candor_v1_Reason__Output>
      ReasonTally: MessageTypeDefinition<_candor_v1_ReasonTally, _candor_v1_ReasonTally__Output>
      RemoveFromBlocklistRequest: MessageTypeDefinition<_candor_v1_RemoveFromBlocklistRequest, _candor_v1_RemoveFromBlocklistRequest__Output>
      RemoveFromBlocklistResponse: MessageTypeDefinition<_candor_v1_RemoveFromBlocklistResponse, _candor_v1_RemoveFromBlocklistResponse__Output>
      RiskState: EnumTypeDefinition
      SegmentResult: MessageTypeDefinition<_candor_v1_SegmentResult, _candor_v1_SegmentResult__Output>
      SessionAccepted: MessageTypeDefinition<_candor_v1_SessionAccepted, _candor_v1_SessionAccepted__Output>
      SessionStart: MessageTypeDefinition<_candor_v1_SessionStart, _candor_v1_SessionStart__Output>
      SessionSummary: MessageTypeDefinition<_candor_v1_SessionSummary, _candor_v1_SessionSummary__Output>
      SignalScore: MessageTypeDefinition<_candor_v1_SignalScore, _candor_v1_SignalScore__Output>
      StageTimings: MessageTypeDefinition<_candor_v1_StageTimings, _candor_v1_StageTimings__Output>
      StateChange: MessageTypeDefinition<_candor_v1_StateChange, _candor_v1_StateChange__Output>
      StateShare: MessageTypeDefinition<_candor_v1_StateShare, _candor_v1_StateShare__Output>
      SubmitJobRequest: MessageTypeDefinition<_candor_v1_SubmitJobRequest, _candor_v1_SubmitJobRequest__Output>
      VideoFrame: MessageTypeDefinition<_candor_v1_VideoFrame, _candor_v1_VideoFrame__Output>
      WatchJobRequest: MessageTypeDefinition<_candor_v1_WatchJobRequest, _candor_v1_WatchJobRequest__Output>
      WatchSessionRequest: MessageTypeDefinition<_candor_v1_WatchSessionRequest, _candor_v1_WatchSessionRequest__Output>
    }
  }
}

