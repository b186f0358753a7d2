variable "name" {
  description = "Prefix of every resource's name (the database, the Redis group, the IAM role)."
  type        = string
  default     = "maestro"
}

variable "tags" {
  description = "Tags on every AWS resource."
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  description = "The VPC of the Kubernetes cluster: PostgreSQL and Redis get addresses in it."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (two availability zones at least) for PostgreSQL and Redis."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to reach PostgreSQL (5432) and Redis (6379): the cluster's nodes or pods."
  type        = list(string)
}

variable "db_instance_class" {
  description = "RDS instance class of PostgreSQL (README: one replica's figures size it)."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_engine_version" {
  description = "PostgreSQL major version."
  type        = string
  default     = "16"
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of PostgreSQL, in GiB (it grows up to db_max_storage_gb)."
  type        = number
  default     = 50
}

variable "db_max_storage_gb" {
  description = "The most storage autoscaling may give PostgreSQL, in GiB."
  type        = number
  default     = 500
}

variable "db_backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery of PostgreSQL."
  type        = number
  default     = 14
}

variable "db_multi_az" {
  description = "A standby in a second availability zone (failover in a minute or two)."
  type        = bool
  default     = true
}

variable "redis_node_type" {
  description = "ElastiCache node type of Redis (the event bus between replicas: small is enough)."
  type        = string
  default     = "cache.t4g.small"
}

variable "bucket_name" {
  description = "Name of the S3 bucket for artifact content (globally unique)."
  type        = string
}

variable "bucket_noncurrent_days" {
  description = "Days a deleted or overwritten object's previous version is kept (the bucket's backup)."
  type        = number
  default     = 30
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (EKS): Maestro's service account then gets an IAM role for the bucket, and no keys are stored. Empty: no role (give credentials in the secret yourself)."
  type        = string
  default     = ""
}

variable "namespace" {
  description = "Kubernetes namespace of Maestro (the manifests' is maestro)."
  type        = string
  default     = "maestro"
}

variable "service_account" {
  description = "Kubernetes service account of Maestro's pods (the manifests' is maestro)."
  type        = string
  default     = "maestro"
}
