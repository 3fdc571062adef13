// Original file: ../../candor/v1/candor.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddToBlocklistRequest as _candor_v1_AddToBlocklistRequest, AddToBlocklistRequest__Output as _candor_v1_AddToBlocklistRequest__Output } from '../../candor/v1/AddToBlocklistRequest';
import type { AnalyzeRequest as _candor_v1_AnalyzeRequest, AnalyzeRequest__Output as _candor_v1_AnalyzeRequest__Output } from '../../candor/v1/AnalyzeRequest';
import type { AnalyzeResponse as _candor_v1_AnalyzeResponse, AnalyzeResponse__Output as _candor_v1_AnalyzeResponse__Output } from '../../candor/v1/AnalyzeResponse';
import type { BlocklistEntry as _candor_v1_BlocklistEntry, BlocklistEntry__Output as _candor_v1_BlocklistEntry__Output } from '../../candor/v1/BlocklistEntry';
import type { ChallengeRequest as _candor_v1_ChallengeRequest, ChallengeRequest__Output as _candor_v1_ChallengeRequest__Output } from '../../candor/v1/ChallengeRequest';
import type { ChallengeResponse as _candor_v1_ChallengeResponse, ChallengeResponse__Output as _candor_v1_ChallengeResponse__Output } from '../../candor/v1/ChallengeResponse';
import type { CreateViewLinkRequest as _candor_v1_CreateViewLinkRequest, CreateViewLinkRequest__Output as _candor_v1_CreateViewLinkRequest__Output } from '../../candor/v1/CreateViewLinkRequest';
import type { CreateViewLinkResponse as _candor_v1_CreateViewLinkResponse, CreateViewLinkResponse__Output as _candor_v1_CreateViewLinkResponse__Output } from '../../candor/v1/CreateViewLinkResponse';
import type { DeleteCandidateRequest as _candor_v1_DeleteCandidateRequest, DeleteCandidateRequest__Output as _candor_v1_DeleteCandidateRequest__Output } from '../../candor/v1/DeleteCandidateRequest';
import type { DeleteCandidateResponse as _candor_v1_DeleteCandidateResponse, DeleteCandidateResponse__Output as _candor_v1_DeleteCandidateResponse__Output } from '../../candor/v1/DeleteCandidateResponse';
import type { EnrollCandidateRequest as _candor_v1_EnrollCandidateRequest, EnrollCandidateRequest__Output as _candor_v1_EnrollCandidateRequest__Output } from '../../candor/v1/EnrollCandidateRequest';
import type { EnrollCandidateResponse as _candor_v1_EnrollCandidateResponse, EnrollCandidateResponse__Output as _candor_v1_EnrollCandidateResponse__Output } from '../../candor/v1/EnrollCandidateResponse';
import type { GetJobRequest as _candor_v1_GetJobRequest, GetJobRequest__Output as _candor_v1_GetJobRequest__Output } from '../../candor/v1/GetJobRequest';
import type { GetSessionRequest as _candor_v1_GetSessionRequest, GetSessionRequest__Output as _candor_v1_GetSessionRequest__Output } from '../../candor/v1/GetSessionRequest';
import type { GetSessionResponse as _candor_v1_GetSessionResponse, GetSessionResponse__Output as _candor_v1_GetSessionResponse__Output } from '../../candor/v1/GetSessionResponse';
import type { InfoRequest as _candor_v1_InfoRequest, InfoRequest__Output as _candor_v1_InfoRequest__Output } from '../../candor/v1/InfoRequest';
import type { InfoResponse as _candor_v1_InfoResponse, InfoResponse__Output as _candor_v1_InfoResponse__Output } from '../../candor/v1/InfoResponse';
import type { JobStatus as _candor_v1_JobStatus, JobStatus__Output as _candor_v1_JobStatus__Output } from '../../candor/v1/JobStatus';
import type { ListBlocklistRequest as _candor_v1_ListBlocklistRequest, ListBlocklistRequest__Output as _candor_v1_ListBlocklistRequest__Output } from '../../candor/v1/ListBlocklistRequest';
import type { ListBlocklistResponse as _candor_v1_ListBlocklistResponse, ListBlocklistResponse__Output as _candor_v1_ListBlocklistResponse__Output } from '../../candor/v1/ListBlocklistResponse';
import type { RemoveFromBlocklistRequest as _candor_v1_RemoveFromBlocklistRequest, RemoveFromBlocklistRequest__Output as _candor_v1_RemoveFromBlocklistRequest__Output } from '../../candor/v1/RemoveFromBlocklistRequest';
import type { RemoveFromBlocklistResponse as _candor_v1_RemoveFromBlocklistResponse, RemoveFromBlocklistResponse__Output as _candor_v1_RemoveFromBlocklistResponse__Output } from '../../candor/v1/RemoveFromBlocklistResponse';
import type { SubmitJobRequest as _candor_v1_SubmitJobRequest, SubmitJobRequest__Output as _candor_v1_SubmitJobRequest__Output } from '../../candor/v1/SubmitJobRequest';
import type { WatchJobRequest as _candor_v1_WatchJobRequest, WatchJobRequest__Output as _candor_v1_WatchJobRequest__Output } from '../../candor/v1/WatchJobRequest';
import type { WatchSessionRequest as _candor_v1_WatchSessionRequest, WatchSessionRequest__Output as _candor_v1_WatchSessionRequest__Output } from '../../candor/v1/WatchSessionRequest';

export interface CandorClient extends grpc.Client {
  AddToBlocklist(argument: _candor_v1_AddToBlocklistRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_BlocklistEntry__Output>): grpc.ClientUnaryCall;
  AddToBlocklist(argument: _candor_v1_AddToBlocklistRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_BlocklistEntry__Output>): grpc.ClientUnaryCall;
  AddToBlocklist(argument: _candor_v1_AddToBlocklistRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_BlocklistEntry__Output>): grpc.ClientUnaryCall;
  AddToBlocklist(argument: _candor_v1_AddToBlocklistRequest, callback: grpc.requestCallback<_candor_v1_BlocklistEntry__Output>): grpc.ClientUnaryCall;
  addToBlocklist(argument: _candor_v1_AddToBlocklistRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_BlocklistEntry__Output>): grpc.ClientUnaryCall;
  addToBlocklist(argument: _candor_v1_AddToBlocklistRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_BlocklistEntry__Output>): grpc.ClientUnaryCall;
  addToBlocklist(argument: _candor_v1_AddToBlocklistRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_BlocklistEntry__Output>): grpc.ClientUnaryCall;
  addToBlocklist(argument: _candor_v1_AddToBlocklistRequest, callback: grpc.requestCallback<_candor_v1_BlocklistEntry__Output>): grpc.ClientUnaryCall;
  
  Analyze(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_candor_v1_AnalyzeRequest, _candor_v1_AnalyzeResponse__Output>;
  Analyze(options?: grpc.CallOptions): grpc.ClientDuplexStream<_candor_v1_AnalyzeRequest, _candor_v1_AnalyzeResponse__Output>;
  analyze(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_candor_v1_AnalyzeRequest, _candor_v1_AnalyzeResponse__Output>;
  analyze(options?: grpc.CallOptions): grpc.ClientDuplexStream<_candor_v1_AnalyzeRequest, _candor_v1_AnalyzeResponse__Output>;
  
  Challenge(argument: _candor_v1_ChallengeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_ChallengeResponse__Output>): grpc.ClientUnaryCall;
  Challenge(argument: _candor_v1_ChallengeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_ChallengeResponse__Output>): grpc.ClientUnaryCall;
  Challenge(argument: _candor_v1_ChallengeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_ChallengeResponse__Output>): grpc.ClientUnaryCall;
  Challenge(argument: _candor_v1_ChallengeRequest, callback: grpc.requestCallback<_candor_v1_ChallengeResponse__Output>): grpc.ClientUnaryCall;
  challenge(argument: _candor_v1_ChallengeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_ChallengeResponse__Output>): grpc.ClientUnaryCall;
  challenge(argument: _candor_v1_ChallengeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_ChallengeResponse__Output>): grpc.ClientUnaryCall;
  challenge(argument: _candor_v1_ChallengeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_ChallengeResponse__Output>): grpc.ClientUnaryCall;
  challenge(argument: _candor_v1_ChallengeRequest, callback: grpc.requestCallback<_candor_v1_ChallengeResponse__Output>): grpc.ClientUnaryCall;
  
  CreateViewLink(argument: _candor_v1_CreateViewLinkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_CreateViewLinkResponse__Output>): grpc.ClientUnaryCall;
  CreateViewLink(argument: _candor_v1_CreateViewLinkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_CreateViewLinkResponse__Output>): grpc.ClientUnaryCall;
  CreateViewLink(argument: _candor_v1_CreateViewLinkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_CreateViewLinkResponse__Output>): grpc.ClientUnaryCall;
  CreateViewLink(argument: _candor_v1_CreateViewLinkRequest, callback: grpc.requestCallback<_candor_v1_CreateViewLinkResponse__Output>): grpc.ClientUnaryCall;
  createViewLink(argument: _candor_v1_CreateViewLinkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_CreateViewLinkResponse__Output>): grpc.ClientUnaryCall;
  createViewLink(argument: _candor_v1_CreateViewLinkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_CreateViewLinkResponse__Output>): grpc.ClientUnaryCall;
  createViewLink(argument: _candor_v1_CreateViewLinkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_CreateViewLinkResponse__Output>): grpc.ClientUnaryCall;
  createViewLink(argument: _candor_v1_CreateViewLinkRequest, callback: grpc.requestCallback<_candor_v1_CreateViewLinkResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteCandidate(argument: _candor_v1_DeleteCandidateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_DeleteCandidateResponse__Output>): grpc.ClientUnaryCall;
  DeleteCandidate(argument: _candor_v1_DeleteCandidateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_DeleteCandidateResponse__Output>): grpc.ClientUnaryCall;
  DeleteCandidate(argument: _candor_v1_DeleteCandidateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_DeleteCandidateResponse__Output>): grpc.ClientUnaryCall;
  DeleteCandidate(argument: _candor_v1_DeleteCandidateRequest, callback: grpc.requestCallback<_candor_v1_DeleteCandidateResponse__Output>): grpc.ClientUnaryCall;
  deleteCandidate(argument: _candor_v1_DeleteCandidateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_DeleteCandidateResponse__Output>): grpc.ClientUnaryCall;
  deleteCandidate(argument: _candor_v1_DeleteCandidateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_DeleteCandidateResponse__Output>): grpc.ClientUnaryCall;
  deleteCandidate(argument: _candor_v1_DeleteCandidateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_DeleteCandidateResponse__Output>): grpc.ClientUnaryCall;
  deleteCandidate(argument: _candor_v1_DeleteCandidateRequest, callback: grpc.requestCallback<_candor_v1_DeleteCandidateResponse__Output>): grpc.ClientUnaryCall;
  
  EnrollCandidate(argument: _candor_v1_EnrollCandidateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_EnrollCandidateResponse__Output>): grpc.ClientUnaryCall;
  EnrollCandidate(argument: _candor_v1_EnrollCandidateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_EnrollCandidateResponse__Output>): grpc.ClientUnaryCall;
  EnrollCandidate(argument: _candor_v1_EnrollCandidateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_EnrollCandidateResponse__Output>): grpc.ClientUnaryCall;
  EnrollCandidate(argument: _candor_v1_EnrollCandidateRequest, callback: grpc.requestCallback<_candor_v1_EnrollCandidateResponse__Output>): grpc.ClientUnaryCall;
  enrollCandidate(argument: _candor_v1_EnrollCandidateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_EnrollCandidateResponse__Output>): grpc.ClientUnaryCall;
  enrollCandidate(argument: _candor_v1_EnrollCandidateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_EnrollCandidateResponse__Output>): grpc.ClientUnaryCall;
  enrollCandidate(argument: _candor_v1_EnrollCandidateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_EnrollCandidateResponse__Output>): grpc.ClientUnaryCall;
  enrollCandidate(argument: _candor_v1_EnrollCandidateRequest, callback: grpc.requestCallback<_candor_v1_EnrollCandidateResponse__Output>): grpc.ClientUnaryCall;
  
  GetJob(argument: _candor_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _candor_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _candor_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  GetJob(argument: _candor_v1_GetJobRequest, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  getJob(argument: _candor_v1_GetJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  getJob(argument: _candor_v1_GetJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  getJob(argument: _candor_v1_GetJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  getJob(argument: _candor_v1_GetJobRequest, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  
  GetSession(argument: _candor_v1_GetSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_GetSessionResponse__Output>): grpc.ClientUnaryCall;
  GetSession(argument: _candor_v1_GetSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_GetSessionResponse__Output>): grpc.ClientUnaryCall;
  GetSession(argument: _candor_v1_GetSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_GetSessionResponse__Output>): grpc.ClientUnaryCall;
  GetSession(argument: _candor_v1_GetSessionRequest, callback: grpc.requestCallback<_candor_v1_GetSessionResponse__Output>): grpc.ClientUnaryCall;
  getSession(argument: _candor_v1_GetSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_GetSessionResponse__Output>): grpc.ClientUnaryCall;
  getSession(argument: _candor_v1_GetSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_GetSessionResponse__Output>): grpc.ClientUnaryCall;
  getSession(argument: _candor_v1_GetSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_GetSessionResponse__Output>): grpc.ClientUnaryCall;
  getSession(argument: _candor_v1_GetSessionRequest, callback: grpc.requestCallback<_candor_v1_GetSessionResponse__Output>): grpc.ClientUnaryCall;
  
  Info(argument: _candor_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _candor_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _candor_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _candor_v1_InfoRequest, callback: grpc.requestCallback<_candor_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _candor_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _candor_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _candor_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _candor_v1_InfoRequest, callback: grpc.requestCallback<_candor_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  
  ListBlocklist(argument: _candor_v1_ListBlocklistRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_ListBlocklistResponse__Output>): grpc.ClientUnaryCall;
  ListBlocklist(argument: _candor_v1_ListBlocklistRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_ListBlocklistResponse__Output>): grpc.ClientUnaryCall;
  ListBlocklist(argument: _candor_v1_ListBlocklistRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_ListBlocklistResponse__Output>): grpc.ClientUnaryCall;
  ListBlocklist(argument: _candor_v1_ListBlocklistRequest, callback: grpc.requestCallback<_candor_v1_ListBlocklistResponse__Output>): grpc.ClientUnaryCall;
  listBlocklist(argument: _candor_v1_ListBlocklistRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_ListBlocklistResponse__Output>): grpc.ClientUnaryCall;
  listBlocklist(argument: _candor_v1_ListBlocklistRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_ListBlocklistResponse__Output>): grpc.ClientUnaryCall;
  listBlocklist(argument: _candor_v1_ListBlocklistRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_ListBlocklistResponse__Output>): grpc.ClientUnaryCall;
  listBlocklist(argument: _candor_v1_ListBlocklistRequest, callback: grpc.requestCallback<_candor_v1_ListBlocklistResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveFromBlocklist(argument: _candor_v1_RemoveFromBlocklistRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_RemoveFromBlocklistResponse__Output>): grpc.ClientUnaryCall;
  RemoveFromBlocklist(argument: _candor_v1_RemoveFromBlocklistRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_RemoveFromBlocklistResponse__Output>): grpc.ClientUnaryCall;
  RemoveFromBlocklist(argument: _candor_v1_RemoveFromBlocklistRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_RemoveFromBlocklistResponse__Output>): grpc.ClientUnaryCall;
  RemoveFromBlocklist(argument: _candor_v1_RemoveFromBlocklistRequest, callback: grpc.requestCallback<_candor_v1_RemoveFromBlocklistResponse__Output>): grpc.ClientUnaryCall;
  removeFromBlocklist(argument: _candor_v1_RemoveFromBlocklistRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_RemoveFromBlocklistResponse__Output>): grpc.ClientUnaryCall;
  removeFromBlocklist(argument: _candor_v1_RemoveFromBlocklistRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_RemoveFromBlocklistResponse__Output>): grpc.ClientUnaryCall;
  removeFromBlocklist(argument: _candor_v1_RemoveFromBlocklistRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_RemoveFromBlocklistResponse__Output>): grpc.ClientUnaryCall;
  removeFromBlocklist(argument: _candor_v1_RemoveFromBlocklistRequest, callback: grpc.requestCallback<_candor_v1_RemoveFromBlocklistResponse__Output>): grpc.ClientUnaryCall;
  
  SubmitJob(argument: _candor_v1_SubmitJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _candor_v1_SubmitJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _candor_v1_SubmitJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  SubmitJob(argument: _candor_v1_SubmitJobRequest, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _candor_v1_SubmitJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _candor_v1_SubmitJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _candor_v1_SubmitJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  submitJob(argument: _candor_v1_SubmitJobRequest, callback: grpc.requestCallback<_candor_v1_JobStatus__Output>): grpc.ClientUnaryCall;
  
  WatchJob(argument: _candor_v1_WatchJobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_candor_v1_JobStatus__Output>;
  WatchJob(argument: _candor_v1_WatchJobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_candor_v1_JobStatus__Output>;
  watchJob(argument: _candor_v1_WatchJobRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_candor_v1_JobStatus__Output>;
  watchJob(argument: _candor_v1_WatchJobRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_candor_v1_JobStatus__Output>;
  
  WatchSession(argument: _candor_v1_WatchSessionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_candor_v1_AnalyzeResponse__Output>;
  WatchSession(argument: _candor_v1_WatchSessionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_candor_v1_AnalyzeResponse__Output>;
  watchSession(argument: _candor_v1_WatchSessionRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_candor_v1_AnalyzeResponse__Output>;
  watchSession(argument: _candor_v1_WatchSessionRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_candor_v1_AnalyzeResponse__Output>;
  
}

export interface CandorHandlers extends grpc.UntypedServiceImplementation {
  AddToBlocklist: grpc.handleUnaryCall<_candor_v1_AddToBlocklistRequest__Output, _candor_v1_BlocklistEntry>;
  
  Analyze: grpc.handleBidiStreamingCall<_candor_v1_AnalyzeRequest__Output, _candor_v1_AnalyzeResponse>;
  
  Challenge: grpc.handleUnaryCall<_candor_v1_ChallengeRequest__Output, _candor_v1_ChallengeResponse>;
  
  CreateViewLink: grpc.handleUnaryCall<_candor_v1_CreateViewLinkRequest__Output, _candor_v1_CreateViewLinkResponse>;
  
  DeleteCandidate: grpc.handleUnaryCall<_candor_v1_DeleteCandidateRequest__Output, _candor_v1_DeleteCandidateResponse>;
  
  EnrollCandidate: grpc.handleUnaryCall<_candor_v1_EnrollCandidateRequest__Output, _candor_v1_EnrollCandidateResponse>;
  
  GetJob: grpc.handleUnaryCall<_candor_v1_GetJobRequest__Output, _candor_v1_JobStatus>;
  
  GetSession: grpc.handleUnaryCall<_candor_v1_GetSessionRequest__Output, _candor_v1_GetSessionResponse>;
  
  Info: grpc.handleUnaryCall<_candor_v1_InfoRequest__Output, _candor_v1_InfoResponse>;
  
  ListBlocklist: grpc.handleUnaryCall<_candor_v1_ListBlocklistRequest__Output, _candor_v1_ListBlocklistResponse>;
  
  RemoveFromBlocklist: grpc.handleUnaryCall<_candor_v1_RemoveFromBlocklistRequest__Output, _candor_v1_RemoveFromBlocklistResponse>;
  
  SubmitJob: grpc.handleUnaryCall<_candor_v1_SubmitJobRequest__Output, _candor_v1_JobStatus>;
  
  WatchJob: grpc.handleServerStreamingCall<_candor_v1_WatchJobRequest__Output, _candor_v1_JobStatus>;
  
  WatchSession: grpc.handleServerStreamingCall<_candor_v1_WatchSessionRequest__Output, _candor_v1_AnalyzeResponse>;
  
}

export interface CandorDefinition extends grpc.ServiceDefinition {
  AddToBlocklist: MethodDefinition<_candor_v1_AddToBlocklistRequest, _candor_v1_BlocklistEntry, _candor_v1_AddToBlocklistRequest__Output, _candor_v1_BlocklistEntry__Output>
  Analyze: MethodDefinition<_candor_v1_AnalyzeRequest, _candor_v1_AnalyzeResponse, _candor_v1_AnalyzeRequest__Output, _candor_v1_AnalyzeResponse__Output>
  Challenge: MethodDefinition<_candor_v1_ChallengeRequest, _candor_v1_ChallengeResponse, _candor_v1_ChallengeRequest__Output, _candor_v1_ChallengeResponse__Output>
  CreateViewLink: MethodDefinition<_candor_v1_CreateViewLinkRequest, _candor_v1_CreateViewLinkResponse, _candor_v1_CreateViewLinkRequest__Output, _candor_v1_CreateViewLinkResponse__Output>
  DeleteCandidate: MethodDefinition<_candor_v1_DeleteCandidateRequest, _candor_v1_DeleteCandidateResponse, _candor_v1_DeleteCandidateRequest__Output, _candor_v1_DeleteCandidateResponse__Output>
  EnrollCandidate: MethodDefinition<_candor_v1_EnrollCandidateRequest, _candor_v1_EnrollCandidateResponse, _candor_v1_EnrollCandidateRequest__Output, _candor_v1_EnrollCandidateResponse__Output>
  GetJob: MethodDefinition<_candor_v1_GetJobRequest, _candor_v1_JobStatus, _candor_v1_GetJobRequest__Output, _candor_v1_JobStatus__Output>
  GetSession: MethodDefinition<_candor_v1_GetSessionRequest, _candor_v1_GetSessionResponse, _candor_v1_GetSessionRequest__Output, _candor_v1_GetSessionResponse__Output>
  Info: MethodDefinition<_candor_v1_InfoRequest, _candor_v1_InfoResponse, _candor_v1_InfoRequest__Output, _candor_v1_InfoResponse__Output>
  ListBlocklist: MethodDefinition<_candor_v1_ListBlocklistRequest, _candor_v1_ListBlocklistResponse, _candor_v1_ListBlocklistRequest__Output, _candor_v1_ListBlocklistResponse__Output>
  RemoveFromBlocklist: MethodDefinition<_candor_v1_RemoveFromBlocklistRequest, _candor_v1_RemoveFromBlocklistResponse, _candor_v1_RemoveFromBlocklistRequest__Output, _candor_v1_RemoveFromBlocklistResponse__Output>
  SubmitJob: MethodDefinition<_candor_v1_SubmitJobRequest, _candor_v1_JobStatus, _candor_v1_SubmitJobRequest__Output, _candor_v1_JobStatus__Output>
  WatchJob: MethodDefinition<_candor_v1_WatchJobRequest, _candor_v1_JobStatus, _candor_v1_WatchJobRequest__Output, _candor_v1_JobStatus__Output>
  WatchSession: MethodDefinition<_candor_v1_WatchSessionRequest, _candor_v1_AnalyzeResponse, _candor_v1_WatchSessionRequest__Output, _candor_v1_AnalyzeResponse__Output>
}
