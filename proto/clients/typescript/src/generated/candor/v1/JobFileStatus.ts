// Original file: ../../candor/v1/candor.proto

export const JobFileStatus = {
  JOB_FILE_STATUS_UNSPECIFIED: 'JOB_FILE_STATUS_UNSPECIFIED',
  JOB_FILE_STATUS_PENDING: 'JOB_FILE_STATUS_PENDING',
  JOB_FILE_STATUS_DONE: 'JOB_FILE_STATUS_DONE',
  JOB_FILE_STATUS_FAILED: 'JOB_FILE_STATUS_FAILED',
} as const;

export type JobFileStatus =
  | 'JOB_FILE_STATUS_UNSPECIFIED'
  | 0
  | 'JOB_FILE_STATUS_PENDING'
  | 1
  | 'JOB_FILE_STATUS_DONE'
  | 2
  | 'JOB_FILE_STATUS_FAILED'
  | 3

export type JobFileStatus__Output = typeof JobFileStatus[keyof typeof JobFileStatus]
