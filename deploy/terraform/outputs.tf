output "kubernetes_secret_name" {
  description = "The Secret every Maestro pod reads (maestro-secrets, in var.namespace)."
  value       = kubernetes_secret.maestro.metadata[0].name
}

output "database_address" {
  description = "Host name of PostgreSQL (for pg_dump and psql from inside the VPC)."
  value       = aws_db_instance.maestro.address
}

output "database_url" {
  description = "MAESTRO_DATABASE_URL, with the password (as the Secret holds it)."
  value       = kubernetes_secret.maestro.data["MAESTRO_DATABASE_URL"]
  sensitive   = true
}

output "redis_url" {
  description = "MAESTRO_REDIS_URL (TLS: rediss://)."
  value       = kubernetes_secret.maestro.data["MAESTRO_REDIS_URL"]
}

output "bucket_name" {
  description = "MAESTRO_S3_BUCKET."
  value       = aws_s3_bucket.artifacts.bucket
}

output "bucket_policy_arn" {
  description = "The IAM policy of Maestro's access to the bucket (attach it yourself without IRSA)."
  value       = aws_iam_policy.artifacts.arn
}

output "service_account_role_arn" {
  description = "The IAM role for Maestro's service account: annotate it eks.amazonaws.com/role-arn (empty without oidc_provider_arn)."
  value       = local.use_irsa ? aws_iam_role.maestro[0].arn : ""
}
