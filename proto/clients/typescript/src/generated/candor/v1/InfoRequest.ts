// Original file: ../../candor/v1/candor.proto


export interface InfoRequest {
}

export interface InfoRequest__Output {
}
