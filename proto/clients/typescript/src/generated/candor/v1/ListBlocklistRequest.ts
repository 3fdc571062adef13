// Original file: ../../candor/v1/candor.proto


export interface ListBlocklistRequest {
}

export interface ListBlocklistRequest__Output {
}
