import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { BudgetInput } from '../budget/budget.types';
import { Connection, MutationPayload, NodeInterface } from '../common.types';

@ObjectType('Project', { implements: NodeInterface })
export class ProjectType extends NodeInterface {
  @Field()
  name!: string;

  @Field()
  createdAt!: Date;
}

export const ProjectConnection = Connection(ProjectType, 'Project');

@InputType()
export class ProjectCreateInput {
  @Field(() => ID)
  workspaceId!: string;

  @Field()
  name!: string;

  @Field(() => BudgetInput, { nullable: true, description: "Most the project's keys may spend together per period" })
  budget?: BudgetInput | null;
}

@ObjectType()
export class ProjectCreatePayload extends MutationPayload {
  @Field(() => ProjectType, { nullable: true })
  project?: ProjectType;
}

@InputType({ description: 'Only the fields given change' })
export class ProjectUpdateInput {
  @Field(() => ID)
  projectId!: string;

  @Field(() => String, { nullable: true, description: 'null leaves the name unchanged' })
  name?: string | null;

  @Field(() => BudgetInput, { nullable: true, description: 'Left out: unchanged; null: removed' })
  budget?: BudgetInput | null;
}

@ObjectType()
export class ProjectUpdatePayload extends MutationPayload {
  @Field(() => ProjectType, { nullable: true })
  project?: ProjectType;
}
