# What the cluster does not hold: managed PostgreSQL (RDS), Redis
# (ElastiCache), the artifact bucket and the access to it, and the
# Kubernetes Secret `maestro-secrets` that points Maestro at them (the
# manifests read it; README "Deploying").

locals {
  tags     = merge({ "app.kubernetes.io/part-of" = "maestro" }, var.tags)
  db_name  = "maestro"
  db_user  = "maestro"
  use_irsa = var.oidc_provider_arn != ""
}

# ---- PostgreSQL ---------------------------------------------------------------------

resource "random_password" "db" {
  length  = 32
  special = false
}

resource "aws_db_subnet_group" "maestro" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = local.tags
}

resource "aws_security_group" "db" {
  name        = "${var.name}-postgres"
  description = "PostgreSQL of Maestro: from the cluster only"
  vpc_id      = var.vpc_id
  tags        = local.tags

  ingress {
    description     = "PostgreSQL from the cluster"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = var.client_security_group_ids
  }
}

resource "aws_db_parameter_group" "maestro" {
  name   = "${var.name}-postgres${var.db_engine_version}"
  family = "postgres${var.db_engine_version}"
  tags   = local.tags

  # Connections that vanish are noticed (the servers' pools pre-ping as well).
  parameter {
    name  = "tcp_keepalives_idle"
    value = "60"
  }
}

resource "aws_db_instance" "maestro" {
  identifier                   = var.name
  engine                       = "postgres"
  engine_version               = var.db_engine_version
  instance_class               = var.db_instance_class
  allocated_storage            = var.db_allocated_storage_gb
  max_allocated_storage        = var.db_max_storage_gb
  storage_type                 = "gp3"
  storage_encrypted            = true
  db_name                      = local.db_name
  username                     = local.db_user
  password                     = random_password.db.result
  db_subnet_group_name         = aws_db_subnet_group.maestro.name
  vpc_security_group_ids       = [aws_security_group.db.id]
  parameter_group_name         = aws_db_parameter_group.maestro.name
  multi_az                     = var.db_multi_az
  backup_retention_period      = var.db_backup_retention_days
  copy_tags_to_snapshot        = true
  deletion_protection          = true
  skip_final_snapshot          = false
  final_snapshot_identifier    = "${var.name}-final"
  performance_insights_enabled = true
  auto_minor_version_upgrade   = true
  tags                         = local.tags
}

# ---- Redis --------------------------------------------------------------------------

resource "aws_elasticache_subnet_group" "maestro" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = local.tags
}

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "Redis of Maestro: from the cluster only"
  vpc_id      = var.vpc_id
  tags        = local.tags

  ingress {
    description     = "Redis from the cluster"
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = var.client_security_group_ids
  }
}

# The event bus keeps nothing: no snapshots, one primary and one replica.
resource "aws_elasticache_replication_group" "maestro" {
  replication_group_id       = var.name
  description                = "Maestro's event bus between replicas"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.redis_node_type
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.maestro.name
  security_group_ids         = [aws_security_group.redis.id]
  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  snapshot_retention_limit   = 0
  tags                       = local.tags
}

# ---- the bucket ---------------------------------------------------------------------

resource "aws_s3_bucket" "artifacts" {
  bucket = var.bucket_name
  tags   = local.tags
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

# Versions are the bucket's backup: a deleted or overwritten blob can be restored.
resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    id     = "previous-versions-and-abandoned-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.bucket_noncurrent_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  statement {
    sid     = "DenyPlainHTTP"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.artifacts.arn,
      "${aws_s3_bucket.artifacts.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  policy = data.aws_iam_policy_document.tls_only.json
}

# What Maestro does with its bucket: content-addressed blobs, multipart
# uploads, presigned URLs, and the indexer's verification and GC.
data "aws_iam_policy_document" "artifacts" {
  statement {
    sid       = "ListTheBucket"
    actions   = ["s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [aws_s3_bucket.artifacts.arn]
  }

  statement {
    sid = "ReadAndWriteBlobs"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${aws_s3_bucket.artifacts.arn}/*"]
  }
}

resource "aws_iam_policy" "artifacts" {
  name        = "${var.name}-artifacts"
  description = "Maestro's access to its artifact bucket"
  policy      = data.aws_iam_policy_document.artifacts.json
  tags        = local.tags
}

# IAM role for Maestro's service account (EKS IRSA): no keys anywhere.
data "aws_iam_policy_document" "assume" {
  count = local.use_irsa ? 1 : 0

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${replace(var.oidc_provider_arn, "/^.*oidc-provider\\//", "")}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${var.service_account}"]
    }
  }
}

resource "aws_iam_role" "maestro" {
  count              = local.use_irsa ? 1 : 0
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.assume[0].json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "artifacts" {
  count      = local.use_irsa ? 1 : 0
  role       = aws_iam_role.maestro[0].name
  policy_arn = aws_iam_policy.artifacts.arn
}

# ---- the Kubernetes Secret ------------------------------------------------------------

# Read by every Maestro pod (envFrom, after the ConfigMap: these win).
resource "kubernetes_secret" "maestro" {
  metadata {
    name      = "maestro-secrets"
    namespace = var.namespace
    labels = {
      "app.kubernetes.io/name"       = "maestro"
      "app.kubernetes.io/managed-by" = "terraform"
    }
  }

  data = {
    MAESTRO_DATABASE_URL = "postgresql+asyncpg://${local.db_user}:${random_password.db.result}@${aws_db_instance.maestro.address}:${aws_db_instance.maestro.port}/${local.db_name}"
    MAESTRO_REDIS_URL    = "rediss://${aws_elasticache_replication_group.maestro.primary_endpoint_address}:6379/0"
    MAESTRO_S3_BUCKET    = aws_s3_bucket.artifacts.bucket
    AWS_DEFAULT_REGION   = aws_s3_bucket.artifacts.region
  }
}
